import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend, registerGradients } from "../backend/init-backend.js";
import { rmsNorm, rmsNormReference } from "../ops/rms-norm.js";
import { rope, ropeReference } from "../ops/rope.js";
import { softmaxCrossEntropy, softmaxCrossEntropyReference } from "../ops/softmax-cross-entropy.js";
import { swiglu, swigluReference } from "../ops/swiglu.js";
import { compareWithReference, randomValues } from "../ops/test-support.js";
import { q8ActivationMatMul } from "../ops/packed-matmul.kernels.js";
import { packedWeightTensors } from "../ops/packed-matmul.js";
import { packWeight } from "../quantize/packed-weight-writer.js";
import { wasmKernelsInstalled } from "./install-kernels.js";
import { WasmKernels } from "./wasm-kernels.js";

const TOLERANCE = 1e-5;

// Threaded wasm starts once per process (its own test file): the ops' C kernels split big tensors over the kernel
// threads, so each case below is past the threading threshold (64 Ki elements) and not a multiple of 4 per share.
describe("llamats ops on threaded wasm (2 kernel threads)", () => {
  beforeAll(async () => {
    await registerGradients();
    const info = await initBackend({ backend: "wasm", wasmThreads: 2 });
    expect(info.wasm).toMatchObject({ threads: 2, kernels: true });
  });

  it("runs llamats kernels on two threads", () => {
    expect(wasmKernelsInstalled()).toBe(true);
    expect(WasmKernels.get()?.threads).toBe(2);
  });

  it("swiglu matches silu(gate) · up in value, dgate and dup (one pass), and in each gradient alone", async () => {
    const shape = [3, 257, 101];
    const size = 3 * 257 * 101;
    const gateValues = randomValues(size, 1, 8);
    gateValues[0] = -100;
    gateValues[size - 1] = 100;
    const gate = tf.tensor(gateValues, shape);
    const up = tf.tensor(randomValues(size, 2, 3), shape);
    const both = await compareWithReference(swiglu, swigluReference, [gate, up]);
    expect(Math.max(both.value, ...both.grads)).toBeLessThan(TOLERANCE);
    const gateOnly = await compareWithReference(
      (g) => swiglu(g, up),
      (g) => swigluReference(g, up),
      [gate],
    );
    const upOnly = await compareWithReference(
      (u) => swiglu(gate, u),
      (u) => swigluReference(gate, u),
      [up],
    );
    expect(Math.max(...gateOnly.grads, ...upOnly.grads)).toBeLessThan(TOLERANCE);
    tf.dispose([gate, up]);
  });

  it("rmsNorm matches the tfjs composition in value, dx and dweight", async () => {
    const x = tf.tensor(randomValues(301 * 291, 3, 3), [301, 291]);
    const weight = tf.tensor1d(randomValues(291, 4).map((v) => 1 + v / 2));
    const diff = await compareWithReference(
      (a, w) => rmsNorm(a, w, 1e-6),
      (a, w) => rmsNormReference(a, w, 1e-6),
      [x, weight],
    );
    expect(Math.max(diff.value, ...diff.grads)).toBeLessThan(TOLERANCE);
    tf.dispose([x, weight]);
  });

  it("rope matches x · cos + rotate_half(x) · sin in value and gradients, with per-batch and shared tables", async () => {
    const xShape: [number, number, number, number] = [2, 6, 129, 46];
    const x = tf.tensor4d(randomValues(2 * 6 * 129 * 46, 5, 4), xShape);
    for (const tableShape of [
      [2, 1, 129, 46],
      [129, 46],
    ]) {
      const size = tableShape.reduce((a, b) => a * b, 1);
      const cos = tf.tensor(randomValues(size, 6), tableShape);
      const sin = tf.tensor(randomValues(size, 7), tableShape);
      const diff = await compareWithReference(
        (a, c, s) => rope(a as tf.Tensor4D, c, s),
        (a, c, s) => ropeReference(a as tf.Tensor4D, c, s),
        [x, cos, sin],
      );
      expect(Math.max(diff.value, ...diff.grads)).toBeLessThan(TOLERANCE);
      tf.dispose([cos, sin]);
    }
    x.dispose();
  });

  it("softmaxCrossEntropy matches logSoftmax + one-hot, ignored rows exactly 0", async () => {
    const rows = 9;
    const vocab = 32003;
    const logits = tf.tensor2d(randomValues(rows * vocab, 8, 20), [rows, vocab]);
    const targetList = [0, -100, vocab - 1, 5, -100, 77, 31999, 1, 2];
    const targets = tf.tensor1d(targetList, "int32");
    const diff = await compareWithReference(
      (l) => softmaxCrossEntropy(l as tf.Tensor2D, targets),
      (l) => softmaxCrossEntropyReference(l as tf.Tensor2D, targets),
      [logits],
    );
    expect(Math.max(diff.value, ...diff.grads)).toBeLessThan(TOLERANCE);
    tf.dispose([logits, targets]);
  });

  it("q8MatMuls: three int8 weights of one x, the threads' share boundary inside one of them, equal the q8 reference", async () => {
    const kernels = WasmKernels.get()!;
    const [rows, k, ldc] = [2, 96, 400];
    const widths = [52, 20, 300];
    const starts = [0, 60, 90];
    const xValues = randomValues(rows * k, 41, 2);
    const x = tf.tensor2d(xValues, [rows, k]);
    const initial = randomValues(rows * ldc, 42, 1);
    const y = tf.tensor2d(initial, [rows, ldc]);
    const weights = widths.map((n, i) =>
      packWeight(randomValues(n * k, 50 + i, 0.5), { format: "int8", outFeatures: n, inFeatures: k }),
    );
    const tensors = weights.map((w) => packedWeightTensors(w));
    // The last one adds into y (the decode step's residual projections do).
    kernels.q8MatMuls({
      x: kernels.offsetOf(x),
      m: rows,
      k,
      outputs: tensors.map((t, i) => ({
        words: kernels.offsetOf(t.words),
        scales: kernels.offsetOf(t.scales),
        y: kernels.offsetOf(y) + starts[i] * 4,
        n: widths[i],
        ldc,
        accumulate: i === 2,
      })),
    });
    const want = Float32Array.from(initial);
    weights.forEach((w, i) => {
      const part = new Float32Array(rows * widths[i]);
      q8ActivationMatMul(
        xValues,
        w.words,
        w.scales,
        { format: 2, outFeatures: widths[i], inFeatures: k, blockSize: 32, quantizeActivations: 1 },
        rows,
        part,
      );
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < widths[i]; j++)
          want[r * ldc + starts[i] + j] = (i === 2 ? want[r * ldc + starts[i] + j] : 0) + part[r * widths[i] + j];
    });
    // Columns 52..59 belong to no weight: untouched.
    const got = await y.data();
    let worst = 0;
    for (let i = 0; i < want.length; i++)
      worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
    expect(worst).toBeLessThan(TOLERANCE);
    tf.dispose([x, y, ...tensors.flatMap((t) => [t.words, t.scales])]);
  });
});
