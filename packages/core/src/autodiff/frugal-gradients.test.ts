import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { matMul } from "../ops/matmul.js";
import { rmsNorm } from "../ops/rms-norm.js";
import { swiglu } from "../ops/swiglu.js";
import { maxScaledDiff, randomValues } from "../ops/test-support.js";
import { frugalGradients, frugalVariableGrads } from "./frugal-gradients.js";

/** A few pre-norm MLP blocks with residuals: shared inputs, fan-out, ops whose gradient returns dy itself. */
function blocks(x: tf.Tensor, weights: tf.Tensor[], layers: number): tf.Tensor {
  let h = x;
  for (let l = 0; l < layers; l++) {
    const [norm, gate, up, down] = weights.slice(l * 4, l * 4 + 4);
    const n = rmsNorm(h, norm, 1e-6);
    const inner = swiglu(matMul(n, gate, { transposeB: true }), matMul(n, up, { transposeB: true }));
    h = matMul(inner, down, { transposeB: true, addend: h, alpha: 0.5 });
  }
  return tf.sum(tf.mul(h, h));
}

describe.each(TEST_BACKENDS)("frugalGradients on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  const dim = 24;
  const ffn = 40;
  const layers = 3;
  const make = () => {
    const x = tf.tensor2d(randomValues(16 * dim, 1), [16, dim]);
    const weights: tf.Tensor[] = [];
    for (let l = 0; l < layers; l++)
      weights.push(
        tf.tensor1d(randomValues(dim, 10 + l).map((v) => 1 + v / 4)),
        tf.tensor2d(randomValues(ffn * dim, 20 + l, 0.3), [ffn, dim]),
        tf.tensor2d(randomValues(ffn * dim, 30 + l, 0.3), [ffn, dim]),
        tf.tensor2d(randomValues(dim * ffn, 40 + l, 0.3), [dim, ffn]),
      );
    return { x, weights };
  };

  it("gives tfjs's gradients, value and dy scaling, and leaves no tensor behind", async () => {
    const { x, weights } = make();
    const xs = [x, ...weights];
    const dy = tf.scalar(0.75);
    const before = tf.memory().numTensors;
    const ours = frugalGradients(() => blocks(x, weights, layers), xs, dy);
    const theirs = tf.engine().gradients(() => blocks(x, weights, layers), xs, dy);
    expect(maxScaledDiff(await ours.value.data(), await theirs.value.data())).toBe(0);
    for (let i = 0; i < xs.length; i++)
      expect(maxScaledDiff(await ours.grads[i]!.data(), await theirs.grads[i].data()), `input ${i}`).toBeLessThan(1e-6);
    const ourGrads = ours.grads.filter((g): g is tf.Tensor => g !== null);
    expect(ourGrads.length).toBe(xs.length);
    tf.dispose([ours.value, theirs.value, ...ourGrads, ...theirs.grads]);
    expect(tf.memory().numTensors).toBe(before);
    expect(dy.isDisposed).toBe(false);
    tf.dispose([x, ...weights, dy]);
  });

  it("frees as it goes: fewer tensors alive at the deepest point of the backward pass than tfjs keeps", async () => {
    const { x, weights } = make();
    const variables = weights.map((w, i) => tf.variable(w, true, `frugal-${backend}-${i}`));
    // The most tensors alive while the backward pass runs, sampled as each gradient kernel starts.
    const peak = (run: () => { value: tf.Tensor; grads: unknown }) => {
      let most = 0;
      const engine = tf.engine() as unknown as { runKernel: (...args: unknown[]) => unknown };
      const runKernel = engine.runKernel.bind(engine);
      engine.runKernel = (...args: unknown[]) => {
        most = Math.max(most, tf.memory().numTensors);
        return runKernel(...args);
      };
      try {
        const out = run();
        tf.dispose([out.value, ...Object.values(out.grads as Record<string, tf.Tensor>)]);
      } finally {
        engine.runKernel = runKernel;
      }
      return most;
    };
    const f = () => blocks(x, variables, layers) as tf.Scalar;
    const ours = peak(() => frugalVariableGrads(f, variables));
    const theirs = peak(() => tf.variableGrads(f, variables));
    expect(ours).toBeLessThan(theirs - 10);
    const a = frugalVariableGrads(f, variables);
    const b = tf.variableGrads(f, variables);
    expect(Object.keys(a.grads).sort()).toEqual(Object.keys(b.grads).sort());
    for (const name of Object.keys(b.grads))
      expect(maxScaledDiff(await a.grads[name].data(), await b.grads[name].data())).toBeLessThan(1e-6);
    tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), x, ...weights, ...variables]);
  });
});
