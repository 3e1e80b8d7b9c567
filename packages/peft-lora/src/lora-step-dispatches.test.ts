import * as tf from "@tensorflow/tfjs-core";
import { countGpuDispatches } from "@llamats/core";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { beforeAll, describe, expect, it } from "vitest";
import { getPeftModel, type PeftModel } from "./peft-model.js";

// GQA (4 query heads, 2 kv heads), 2 layers; batch 2 × 16 tokens keep every projection above tfjs-webgpu's
// 1,000-element CPU hand-off, so each op of the step runs (and counts) as a GPU program.
const CONFIG = {
  model_type: "llama",
  vocab_size: 128,
  hidden_size: 64,
  intermediate_size: 96,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
};
const [BATCH, SEQ] = [2, 16];
const IDS = Array.from({ length: BATCH }, (_, b) => Array.from({ length: SEQ }, (_, i) => (7 * i + 31 * b + 3) % 128));

/** Forward and backward of the causal-LM loss for the adapter's variables, read back (one training step, no optimizer). */
async function step(peft: PeftModel): Promise<void> {
  const { value, grads } = tf.variableGrads(() => {
    const { logits, loss } = peft.forward(IDS, { labels: IDS });
    logits.dispose();
    return loss!;
  }, peft.trainableVariables());
  await Promise.all([value.data(), ...Object.values(grads).map((g) => g.data())]);
  tf.dispose([value, ...Object.values(grads)]);
}

/** Transposes of any kind tfjs-webgpu runs: its "transpose" program and the shared-memory one for 2-D swaps. */
const transposes = (programs: Map<string, number>) =>
  (programs.get("transpose") ?? 0) + (programs.get("transposeShared") ?? 0);

// Issue #14: RoPE and attention read the projections' [batch, seq, heads, headDim] layout, so a training step
// transposes no q, k, v, attention output or their gradients (it was 15 transposes of 133 dispatches).
describe.each(TEST_BACKENDS.filter((b) => b === "webgpu"))("a LoRA training step on %s", () => {
  beforeAll(() => useBackend("webgpu"), 60_000);

  it("dispatches no transpose: RoPE and attention run on the projections' layout, forward and backward", async () => {
    const model = LlamaForCausalLM.fromConfig(CONFIG, { seed: 1 });
    const peft = getPeftModel(model, { r: 4, target_modules: ["q_proj", "v_proj"] }, { seed: 2 });
    await step(peft); // compiles the programs and uploads the weights
    const counter = countGpuDispatches()!;
    await step(peft);
    counter.stop();
    const programs = counter.byProgram();
    const layers = CONFIG.num_hidden_layers;
    const tally = JSON.stringify(Object.fromEntries(programs));
    // Per layer: attention forward 1 + backward 4 (statistics, dq, dk, dv); rope forward for q and k, and backward
    // for both but layer 0's k (k_proj has no adapter and its input, the embeddings, trains nothing).
    expect(programs.get("llamats_attention"), `attention dispatches in ${tally}`).toBe(5 * layers);
    expect(programs.get("llamats_rope"), `rope dispatches in ${tally}`).toBe(4 * layers - 1);
    expect(transposes(programs), `transposes among ${counter.count()} dispatches: ${tally}`).toBe(0);

    // The control: a transpose of a projection-shaped tensor is dispatched and tallied, so the 0 above is measured.
    const [heads, dim] = [CONFIG.num_attention_heads, CONFIG.hidden_size / CONFIG.num_attention_heads];
    const projection = tf.randomUniform([BATCH, SEQ, heads, dim]);
    await projection.data();
    const control = countGpuDispatches()!;
    const swapped = tf.transpose(projection, [0, 2, 1, 3]);
    await swapped.data();
    control.stop();
    expect(transposes(control.byProgram())).toBe(1);
    tf.dispose([projection, swapped]);
    peft.unload();
    model.dispose();
  }, 180_000);
});
