import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend, registerGradients } from "../backend/init-backend.js";
import { KERNELS_SOURCE_SHA256 } from "./kernels-binary.js";
import { splitGemm, WasmKernels } from "./wasm-kernels.js";
import { wasmKernelsInstalled } from "./install-kernels.js";
import { softmaxCrossEntropy } from "../ops/softmax-cross-entropy.js";
import { SeededRng } from "../seeded-rng.js";

/** Plain double-precision reference for op(a)·op(b) over [batch, …] arrays. */
function referenceMatMul(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  ta: boolean,
  tb: boolean,
): Float64Array {
  const [ba, ra, ca] = aShape;
  const [bb, rb, cb] = bShape;
  const m = ta ? ca : ra;
  const k = ta ? ra : ca;
  const n = tb ? rb : cb;
  const batch = Math.max(ba, bb);
  const out = new Float64Array(batch * m * n);
  for (let x = 0; x < batch; x++) {
    const ao = (ba === 1 ? 0 : x) * ra * ca;
    const bo = (bb === 1 ? 0 : x) * rb * cb;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++)
          s += a[ao + (ta ? p * ca + i : i * ca + p)] * b[bo + (tb ? j * cb + p : p * cb + j)];
        out[(x * m + i) * n + j] = s;
      }
  }
  return out;
}

function random(n: number, rng: SeededRng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

describe("the committed kernel binary", () => {
  it("was built from the current C source (rebuild: node scripts/build-kernels.mjs)", () => {
    const source = readFileSync(new URL("../../kernels/llamats-kernels.c", import.meta.url));
    expect(createHash("sha256").update(source).digest("hex")).toBe(KERNELS_SOURCE_SHA256);
  });
});

describe("splitGemm", () => {
  it("covers every output element exactly once", () => {
    for (const [batch, m, n, k, threads] of [
      [1, 1, 864, 288, 2],
      [1, 512, 32000, 288, 2],
      [1, 512, 288, 32000, 3],
      [12, 256, 48, 256, 2],
      [3, 7, 9, 1000, 2],
      [1, 2, 5, 100000, 4],
    ]) {
      const seen = new Uint8Array(batch * m * n);
      for (const [b0, b1, m0, m1, j0, j1] of splitGemm(batch, m, n, k, threads)) {
        for (let b = b0; b < b1; b++)
          for (let i = m0; i < m1; i++) for (let j = j0; j < j1; j++) seen[(b * m + i) * n + j]++;
      }
      expect(seen.every((c) => c === 1)).toBe(true);
    }
  });
});

describe("wasm kernels in place of tfjs-backend-wasm", () => {
  beforeAll(async () => {
    const info = await initBackend({ backend: "wasm" });
    await registerGradients();
    expect(info.wasm?.kernels).toBe(true);
  });

  it("are installed and reachable", () => {
    expect(wasmKernelsInstalled()).toBe(true);
    expect(WasmKernels.get()).not.toBeNull();
  });

  const shapes: [number[], number[]][] = [
    [
      [1, 1, 288],
      [1, 288, 864],
    ],
    [
      [1, 3, 17],
      [1, 17, 29],
    ],
    [
      [1, 4, 8],
      [1, 8, 8],
    ],
    [
      [1, 37, 300],
      [1, 300, 45],
    ],
    [
      [1, 513, 19],
      [1, 19, 7],
    ],
    [
      [6, 33, 48],
      [6, 48, 33],
    ],
    [
      [4, 9, 5],
      [1, 5, 11],
    ],
    [
      [1, 6, 20],
      [3, 20, 10],
    ],
    [
      [1, 5, 0],
      [1, 0, 7],
    ],
  ];
  for (const [aBase, bBase] of shapes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        it(`matMul ${JSON.stringify(aBase)}·${JSON.stringify(bBase)} transposeA=${ta} transposeB=${tb} matches a float64 reference`, () => {
          const rng = new SeededRng(aBase[1] * 31 + bBase[2]);
          const aShape = ta ? [aBase[0], aBase[2], aBase[1]] : aBase;
          const bShape = tb ? [bBase[0], bBase[2], bBase[1]] : bBase;
          const a = random(
            aShape.reduce((x, y) => x * y, 1),
            rng,
          );
          const b = random(
            bShape.reduce((x, y) => x * y, 1),
            rng,
          );
          const expected = referenceMatMul(a, aShape, b, bShape, ta, tb);
          const before = tf.memory().numTensors;
          const got = tf.tidy(() =>
            tf.matMul(
              tf.tensor3d(a, aShape as [number, number, number]),
              tf.tensor3d(b, bShape as [number, number, number]),
              ta,
              tb,
            ),
          );
          expect(got.shape).toEqual([Math.max(aShape[0], bShape[0]), aBase[1], bBase[2]]);
          const values = got.dataSync();
          got.dispose();
          expect(tf.memory().numTensors).toBe(before);
          let worst = 0;
          for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(values[i] - expected[i]));
          expect(worst).toBeLessThan(1e-5 * Math.sqrt(Math.max(1, aBase[2])));
        });
      }
    }
  }

  it("matMul on rank-2 and rank-4 tensors keeps tfjs shapes", () => {
    const x = tf.randomNormal([2, 3, 5, 4], 0, 1, "float32", 1);
    const y = tf.randomNormal([4, 6], 0, 1, "float32", 2);
    const viaKernels = tf.matMul(x, tf.broadcastTo(y, [2, 3, 4, 6]));
    expect(viaKernels.shape).toEqual([2, 3, 5, 6]);
    const flat = tf.matMul(tf.reshape(x, [30, 4]), y);
    expect(Math.max(...tf.abs(tf.sub(tf.reshape(viaKernels, [30, 6]), flat)).dataSync())).toBeLessThan(1e-6);
    tf.dispose([x, y, viaKernels, flat]);
  });

  it("exp matches Math.exp to 3e-7 relative, 0 below the float range and Infinity above", () => {
    const xs = Float32Array.from({ length: 10001 }, (_, i) => -90 + (i * 180) / 10000);
    const got = tf.tidy(() => tf.exp(tf.tensor1d(xs)).dataSync());
    for (let i = 0; i < xs.length; i++) {
      const want = Math.exp(xs[i]);
      if (want > 3.4e38) expect(got[i] === Infinity || got[i] > 3e38).toBe(true);
      else if (want < 1.2e-38) expect(got[i]).toBeLessThan(1.2e-38);
      else expect(Math.abs(got[i] - want) / want).toBeLessThan(3e-7);
    }
    expect(tf.tidy(() => tf.exp(tf.tensor1d([-Infinity, 0])).dataSync())).toEqual(new Float32Array([0, 1]));
  });

  it("fused cross-entropy gives tfjs logSoftmax losses and gradients (1e-5), also for extreme logits", () => {
    const rng = new SeededRng(5);
    const rows = 7;
    const vocab = 1001;
    const values = Float32Array.from({ length: rows * vocab }, () => (rng.next() * 2 - 1) * 20);
    values[3 * vocab + 10] = 1e4;
    values[4 * vocab + 2] = -1e4;
    const targets = [0, 5, 1000, 10, 2, 999, 500];
    const weights = Float32Array.from({ length: rows }, (_, i) => 0.5 + i);
    const x = tf.tensor2d(values, [rows, vocab]);
    const t = tf.tensor1d(targets, "int32");
    const w = tf.tensor1d(weights);
    const fusedLoss = (logits: tf.Tensor2D) => tf.sum(tf.mul(softmaxCrossEntropy(logits, t), w));
    const referenceLoss = (logits: tf.Tensor2D) =>
      tf.sum(tf.mul(tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(t, vocab)), 1)), w));
    const before = tf.memory().numTensors;
    const [a, ga] = tf.tidy(() => {
      const r = tf.valueAndGrad(fusedLoss)(x);
      return [r.value.dataSync()[0], r.grad.dataSync()];
    }) as unknown as [number, Float32Array];
    expect(tf.memory().numTensors).toBe(before);
    const [b, gb] = tf.tidy(() => {
      const r = tf.valueAndGrad(referenceLoss)(x);
      return [r.value.dataSync()[0], r.grad.dataSync()];
    }) as unknown as [number, Float32Array];
    expect(Math.abs(a - b) / Math.abs(b)).toBeLessThan(1e-5);
    let worst = 0;
    for (let i = 0; i < ga.length; i++) worst = Math.max(worst, Math.abs(ga[i] - gb[i]));
    expect(worst).toBeLessThan(1e-5 * 7);
    tf.dispose([x, t, w]);
  });

  it("siluMul on [gate | up] rows (the decode step's layout) matches silu(gate) · up", () => {
    const kernels = WasmKernels.get()!;
    const rng = new SeededRng(11);
    for (const [rows, ffn] of [
      [1, 768],
      [3, 37],
      [130, 771],
    ]) {
      const gateUp = Float32Array.from({ length: rows * 2 * ffn }, () => (rng.next() * 2 - 1) * 8);
      const input = kernels.malloc(gateUp.length * 4);
      const out = kernels.malloc(rows * ffn * 4);
      kernels.heapF32().set(gateUp, input / 4);
      kernels.siluMul(input, out, rows, ffn);
      const got = kernels.heapF32().slice(out / 4, out / 4 + rows * ffn);
      kernels.free(input);
      kernels.free(out);
      let worst = 0;
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < ffn; i++) {
          const g = gateUp[r * 2 * ffn + i];
          const want = (g / (1 + Math.exp(-g))) * gateUp[r * 2 * ffn + ffn + i];
          worst = Math.max(worst, Math.abs(got[r * ffn + i] - want) / Math.max(1, Math.abs(want)));
        }
      }
      expect(worst, `${rows}×${ffn}`).toBeLessThan(1e-6);
    }
  });

  it("identity shares data: a clone outlives its source and keeps its values", () => {
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
  });
});
