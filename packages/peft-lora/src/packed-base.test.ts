import * as tf from "@tensorflow/tfjs-core";
import { unpackWeightTensor, type FrozenWeightFormat } from "@llamats/core";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { beforeAll, describe, expect, it } from "vitest";
import { getPeftModel } from "./peft-model.js";

/** In-features multiples of 64: every projection packs as NF4 with bitsandbytes' default block. */
const PACKABLE = {
  model_type: "llama",
  vocab_size: 97,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
  initializer_range: 0.2,
  bos_token_id: 1,
  eos_token_id: 2,
};
const IDS = [
  [1, 7, 33, 90, 12, 5, 64, 2],
  [1, 70, 3, 3, 9, 11, 41, 8],
];
const LORA = { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ["q_proj", "v_proj", "down_proj"] };
const STEPS = 4;

/** The float32 model whose projections hold exactly what the packed model's weights dequantize to. */
function dequantizedTwin(packed: LlamaForCausalLM, seed: number): LlamaForCausalLM {
  const twin = LlamaForCausalLM.fromConfig(PACKABLE, { seed });
  for (const [name, weight] of packed.packedWeights()) {
    const values = unpackWeightTensor(weight);
    twin.namedParameters().get(name)!.assign(values);
    values.dispose();
  }
  return twin;
}

/** Losses of STEPS Adam steps of LoRA (seeded) on `model`, and the PeftModel. */
async function trainLora(model: LlamaForCausalLM) {
  const peft = getPeftModel(model, LORA, { seed: 1 });
  const optimizer = tf.train.adam(1e-2);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = optimizer.minimize(
      () => {
        const out = peft.forward(IDS, { labels: IDS });
        out.logits.dispose();
        return out.loss!;
      },
      true,
      peft.trainableVariables(),
    )!;
    losses.push((await loss.data())[0]);
    loss.dispose();
  }
  optimizer.dispose();
  return { peft, losses };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return a.length === b.length ? worst : Infinity;
}

describe.each(TEST_BACKENDS)("LoRA on a packed base on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(["nf4", "int8"] as FrozenWeightFormat[])(
    "%s base: trains as on its float32 dequantization, leaves the base untouched, and merges into float32",
    async (weights) => {
      const base = LlamaForCausalLM.fromConfig(PACKABLE, { seed: 4, weights });
      const twin = dequantizedTwin(base, 4);
      const q0 = base.packedWeights().get("model.layers.0.self_attn.q_proj.weight")!;
      const wordsBefore = await q0.words.data();

      const packedRun = await trainLora(base);
      const floatRun = await trainLora(twin);
      expect(packedRun.peft.trainableVariables().length).toBe(2 * 3 * 2); // A and B of 3 modules in 2 layers
      expect(maxDiff(packedRun.losses, floatRun.losses), `${packedRun.losses} vs ${floatRun.losses}`).toBeLessThan(
        1e-4,
      );
      expect(packedRun.losses[STEPS - 1]).toBeLessThan(packedRun.losses[0]);
      expect(await q0.words.data()).toEqual(wordsBefore);

      const before = packedRun.peft.forward(IDS).logits;
      const merged = packedRun.peft.mergeAndUnload();
      expect(packedRun.peft.dequantizedModules.length).toBe(6);
      // The merged modules are float32 parameters now; the others stay packed.
      expect(merged.namedParameters().has("model.layers.0.self_attn.q_proj.weight")).toBe(true);
      expect(merged.packedWeights().has("model.layers.0.self_attn.q_proj.weight")).toBe(false);
      expect(merged.packedWeights().has("model.layers.0.self_attn.k_proj.weight")).toBe(true);
      const after = merged.forward(IDS).logits;
      expect(maxDiff(await after.data(), await before.data())).toBeLessThan(1e-4);
      tf.dispose([before, after]);
      merged.dispose();
      floatRun.peft.mergeAndUnload().dispose();
    },
    120_000,
  );

  it("modules_to_save naming a packed tensor (the int8 embedding) is refused with a ConfigError", () => {
    const base = LlamaForCausalLM.fromConfig(PACKABLE, { seed: 4, weights: "int8" });
    expect(() => getPeftModel(base, { ...LORA, modules_to_save: ["embed_tokens"] })).toThrow(
      /modules_to_save cannot train "model\.embed_tokens\.weight", which the base holds packed/,
    );
    base.dispose();
  });
});
