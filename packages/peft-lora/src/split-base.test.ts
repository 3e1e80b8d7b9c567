import * as tf from "@tensorflow/tfjs-core";
import { ConfigError, initBackend, registerGradients } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPeftModel } from "./peft-model.js";
import { PromptTuningModel } from "./prompt-tuning.js";
import { readTinyInputs, TINY_DIR } from "./testing/fixtures.js";
import { TEST_BACKENDS, readScalar } from "@llamats/core/testing";

/** llama1-tiny's 2000 × 64 embedding and head (512 000 bytes each) become three row chunks each. */
const SMALL_LIMIT = 200_000;

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  return await readScalar(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b)))));
}

describe.each(TEST_BACKENDS)(
  "adapters on a base whose embedding and lm_head are split (%s)",
  { timeout: 60_000 },
  (backend) => {
    let whole: LlamaForCausalLM;
    let split: LlamaForCausalLM;
    let inputs: Awaited<ReturnType<typeof readTinyInputs>>;
    beforeAll(async () => {
      await initBackend({ backend });
      await registerGradients();
      inputs = await readTinyInputs();
      whole = await LlamaForCausalLM.fromPretrained(TINY_DIR);
      split = await LlamaForCausalLM.fromPretrained(TINY_DIR, { maxTensorBytes: SMALL_LIMIT });
    }, 120_000);
    afterAll(() => {
      whole?.dispose();
      split?.dispose();
    });

    // First: merge + unmerge below leaves the split head changed by float32 rounding.
    it("prompt tuning: same logits as on the unsplit base", async () => {
      const pa = PromptTuningModel.create(whole, { num_virtual_tokens: 3 }, { seed: 2 });
      const pb = PromptTuningModel.create(split, { num_virtual_tokens: 3 }, { seed: 2 });
      const la = pa.forward([inputs.inputIds[0]]).logits;
      const lb = pb.forward([inputs.inputIds[0]]).logits;
      expect(await maxAbsDiff(lb, la)).toBe(0);
      tf.dispose([la, lb]);
      pa.dispose();
      pb.dispose();
    });

    it("LoRA targeting lm_head: same logits and adapter gradients; merge and unmerge chunk by chunk", async () => {
      const config = { r: 2, target_modules: ["q_proj", "lm_head"], init_lora_weights: false as const };
      const a = getPeftModel(whole, config, { seed: 7 });
      const b = getPeftModel(split, config, { seed: 7 });
      a.eval();
      b.eval();
      const ids = [inputs.inputIds[0]];
      const labels = [inputs.labels[0]];
      const run = (peft: typeof a) =>
        tf.variableGrads(() => {
          const { logits, loss } = peft.forward(ids, { labels });
          logits.dispose();
          return loss!;
        }, [...peft.adapterVariables().values()]);
      const ga = run(a);
      const gb = run(b);
      expect(await maxAbsDiff(gb.value, ga.value)).toBeLessThan(1e-6);
      const names = [...a.adapterVariables().keys()];
      expect([...b.adapterVariables().keys()]).toEqual(names);
      for (const [i, v] of [...a.adapterVariables().values()].entries()) {
        const w = [...b.adapterVariables().values()][i];
        // Per-chunk products sum in another order (and GPU kernels round differently): within 2e-6 of the gradient's size.
        const scale = Math.max(1, await readScalar(tf.max(tf.abs(ga.grads[v.name]))));
        expect((await maxAbsDiff(gb.grads[w.name], ga.grads[v.name])) / scale, names[i]).toBeLessThan(2e-6);
      }
      tf.dispose([ga.value, gb.value, ...Object.values(ga.grads), ...Object.values(gb.grads)]);

      const unmerged = b.forward(ids).logits;
      b.merge();
      const merged = b.forward(ids).logits;
      expect(await maxAbsDiff(merged, unmerged)).toBeLessThan(1e-4);
      b.unmerge();
      const back = split.forward(ids).logits;
      const base = whole.forward(ids).logits;
      // Unmerged again, the base head is its old self up to float32 rounding.
      expect(await maxAbsDiff(back, base)).toBeLessThan(1e-5);
      tf.dispose([unmerged, merged, back, base]);
      a.unload();
      b.unload();
    });

    it("modules_to_save on a split head is refused with a ConfigError", () => {
      expect(() => getPeftModel(split, { r: 2, target_modules: ["q_proj"], modules_to_save: ["lm_head"] })).toThrow(
        ConfigError,
      );
      expect(split.linearNames().every((n) => split.getLinear(n).constructor.name !== "LoraLinear")).toBe(true);
    });
  },
);
