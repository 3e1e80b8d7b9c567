import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "@llamats/core";
import { TEST_BACKENDS } from "@llamats/core/testing";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { positionsFromMask } from "./attention-mask.js";
import { DECODE_STEP, syncDecodeStepKernels } from "./wasm-decode.js";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { LLAMA3_SMALL } from "./testing/tiny-configs.js";

/** Logits of every step of a greedy generation, read asynchronously (webgpu cannot read synchronously). */
async function stepLogits(model: LlamaForCausalLM, prompts: number[][], steps: number): Promise<Float32Array[]> {
  const pending: Promise<Float32Array>[] = [];
  const original = model.forwardCached.bind(model);
  const spy = vi.spyOn(model, "forwardCached").mockImplementation((options) => {
    const logits = original(options);
    const copy = tf.keep(logits.clone());
    pending.push(copy.data().then((d) => (copy.dispose(), d as Float32Array)));
    return logits;
  });
  await model.generate(prompts, { maxNewTokens: steps, eosTokenId: [], repetitionPenalty: 1.0001 });
  spy.mockRestore();
  return Promise.all(pending);
}

describe.each(TEST_BACKENDS)("the decode step op on %s", (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });
  afterEach(() => {
    if (backend === "cpu" && tf.getKernel(DECODE_STEP, backend)) tf.unregisterKernel(DECODE_STEP, backend);
  });

  it("runs a DECODE_STEP kernel wherever one is registered for the active backend: the model never names one", async () => {
    const model = LlamaForCausalLM.fromConfig(LLAMA3_SMALL, { seed: 5 });
    syncDecodeStepKernels();
    // wasm registers the fused step itself; on cpu (whose cache, like wasm's, is written in place) a stand-in giving
    // zero logits shows that the registry lookup alone routes the step; webgpu has none and runs the composed step.
    const standIn = backend === "cpu";
    if (standIn) {
      tf.registerKernel({
        kernelName: DECODE_STEP,
        backendName: backend,
        kernelFunc: ({ inputs, backend: b }) => {
          const batch = (inputs.hidden as tf.TensorInfo).shape[0];
          const cpu = b as { makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };
          return cpu.makeTensorInfo(
            [batch, model.config.vocabSize],
            "float32",
            new Float32Array(batch * model.config.vocabSize),
          );
        },
      });
    }
    const runKernel = vi.spyOn(tf.engine(), "runKernel");
    const ids = await model.generate([[1, 5, 6]], { maxNewTokens: 3, eosTokenId: [] });
    const fused = runKernel.mock.calls.filter(([name]) => name === DECODE_STEP).length;
    runKernel.mockRestore();
    expect(fused).toBe(tf.getKernel(DECODE_STEP, backend) ? 2 : 0);
    expect(fused).toBe(backend === "webgpu" ? 0 : 2);
    if (standIn) expect(ids[0].slice(4)).toEqual([0, 0]); // the stand-in's argmax
    model.dispose();
  });

  it("equals recomputing the whole sequence (GQA, a left-padded row), tensors flat", async () => {
    const model = LlamaForCausalLM.fromConfig(LLAMA3_SMALL, { seed: 9 });
    const prompts = [
      [1, 5, 6, 7, 8],
      [1, 40],
    ];
    const before = tf.memory().numTensors;
    const logits = await stepLogits(model, prompts, 4);
    expect(tf.memory().numTensors).toBe(before);
    // Recompute: the whole left-padded sequence so far through forward, last position per row.
    const ids = await model.generate(prompts, { maxNewTokens: 4, eosTokenId: [], repetitionPenalty: 1.0001 });
    for (let step = 1; step < logits.length; step++) {
      const length = 5 + step;
      const rows = ids.map((row) => row.slice(0, length));
      const padded = rows.map((row, b) => [...new Array<number>(b === 1 ? 3 : 0).fill(0), ...row].slice(0, length));
      const mask = padded.map((row, b) => row.map((_, j) => (b === 1 && j < 3 ? 0 : 1)));
      const full = model.forward(padded, {
        attentionMask: mask,
        positionIds: positionsFromMask(mask, 0, length),
      }).logits;
      const last = await tf.tidy(() => tf.reshape(tf.slice(full, [0, length - 1, 0], [2, 1, -1]), [-1])).data();
      full.dispose();
      let worst = 0;
      last.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - logits[step][i]))));
      expect(worst, `step ${step}`).toBeLessThan(1e-4);
    }
    model.dispose();
  });
});
