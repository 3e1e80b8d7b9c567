import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { ShapeMismatchError } from "../errors.js";
import { installWasmKernels, uninstallWasmKernels, wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { dequantizeNf4, quantizeNf4 } from "../quantize/nf4.js";
import { packWeight } from "../quantize/packed-weight-writer.js";
import { PACKED_FORMAT_CODES, unpackWeight, type PackWeightOptions } from "../quantize/packed-weight.js";
import { dequantizeQ8_0, quantizeQ8_0 } from "../quantize/q8-0.js";
import {
  disposePackedWeight,
  packedMatMul,
  packedWeightTensors,
  unpackWeightRows,
  unpackWeightTensor,
} from "./packed-matmul.js";
import { PACKED_MATMUL, PACKED_MATMUL_GRAD_X, q8ActivationMatMul } from "./packed-matmul.kernels.js";
import { MATMUL_TILES } from "./matmul.webgpu.js";
import { compareWithReference, maxScaledDiff, randomValues, valueAndGrads } from "./test-support.js";

/** Both sides sum float32 products of the same unpacked values; only the order of the sums differs. */
const TOLERANCE = 2e-5;

type Case = Omit<PackWeightOptions, "outFeatures" | "inFeatures"> & { label: string };
const CASES: Case[] = [
  { label: "bfloat16", format: "bfloat16" },
  { label: "int8 (Q8_0)", format: "int8" },
  { label: "nf4", format: "nf4" },
  { label: "nf4, block 32, double quant", format: "nf4", nf4BlockSize: 32, doubleQuant: true },
];

/** [rows..., in] inputs and out features: one row (decode), a few (under the 4-row micro-kernel), many (threads). */
const SHAPES: { x: number[]; out: number }[] = [
  { x: [1, 128], out: 24 },
  { x: [3, 64], out: 13 },
  { x: [2, 37, 128], out: 96 },
];

/** Weights with a spread of magnitudes per block, as trained weights have. */
function weightValues(count: number, seed: number): Float32Array {
  const v = randomValues(count, seed, 0.08);
  for (let i = 0; i < count; i += 29) v[i] *= 6;
  return v;
}

describe("packWeight / unpackWeight", () => {
  const values = weightValues(24 * 128, 5);
  const shape = { outFeatures: 24, inFeatures: 128 };

  it("int8 and nf4 unpack to exactly what core's Q8_0 and NF4 dequantizers give", () => {
    const q8 = unpackWeight(packWeight(values, { ...shape, format: "int8" }));
    expect(q8).toEqual(dequantizeQ8_0(quantizeQ8_0(values), values.length));
    const nf4 = unpackWeight(packWeight(values, { ...shape, format: "nf4", doubleQuant: true }));
    const q = quantizeNf4(values, { doubleQuant: true });
    expect(nf4).toEqual(dequantizeNf4(q.packed, q.absmax, { length: values.length }));
  });

  it("bfloat16 rounds to nearest even and keeps NaN, ±Infinity and signed zero", () => {
    const v = Float32Array.of(1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -7 + 2 ** -9), NaN, Infinity, -Infinity, -0);
    const got = unpackWeight(packWeight(v, { format: "bfloat16", outFeatures: 1, inFeatures: 8 }));
    expect(Array.from(got)).toEqual([1, 1, 1 + 2 ** -6, -(1 + 2 ** -7), NaN, Infinity, -Infinity, -0]);
  });

  it("rejects rows that are not whole blocks, and a wrong value count, naming the tensor", () => {
    expect(() =>
      packWeight(new Float32Array(2 * 48), { format: "nf4", outFeatures: 2, inFeatures: 48, name: "w" }),
    ).toThrow(/w: nf4 packing needs in-features divisible by 64 .* found 48/);
    expect(() => packWeight(new Float32Array(10), { format: "int8", outFeatures: 2, inFeatures: 32 })).toThrow(
      /expected 2 × 32 = 64 values, found 10/,
    );
  });
});

describe.each(TEST_BACKENDS)("packedMatMul on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  /** packedMatMul against matMul(x, dequantize(W)ᵀ), value and dX, for every format and shape. */
  async function compareAll(): Promise<void> {
    for (const c of CASES) {
      for (const [i, s] of SHAPES.entries()) {
        const inFeatures = s.x[s.x.length - 1];
        const options = { ...c, outFeatures: s.out, inFeatures };
        const data = packWeight(weightValues(s.out * inFeatures, 10 + i), options);
        const dense = tf.tensor2d(unpackWeight(data), [s.out, inFeatures]);
        const packed = packedWeightTensors(data);
        const x = tf.tensor(
          randomValues(
            s.x.reduce((a, b) => a * b, 1),
            20 + i,
            2,
          ),
          s.x,
        );
        const diff = await compareWithReference(
          (input) => packedMatMul(input, packed),
          (input) => tf.matMul(input, dense, false, true),
          [x],
        );
        const label = `${c.label} x [${s.x}] out ${s.out}`;
        expect(diff.value, `${label}: value`).toBeLessThan(TOLERANCE);
        expect(diff.grads[0], `${label}: dx`).toBeLessThan(TOLERANCE);
        disposePackedWeight(packed);
        tf.dispose([dense, x]);
      }
    }
  }

  it("matches matMul(x, dequantize(W)ᵀ) in value and dx for bf16, int8 and nf4", compareAll, 120_000);

  it("adds an addend inside the kernel: value, dx and the addend's gradient, decode rows and many", async () => {
    for (const [i, rows] of [1, 3, 74].entries()) {
      const c = CASES[i];
      const data = packWeight(weightValues(96 * 128, 70 + i), { ...c, outFeatures: 96, inFeatures: 128 });
      const dense = tf.tensor2d(unpackWeight(data), [96, 128]);
      const packed = packedWeightTensors(data);
      const x = tf.tensor2d(randomValues(rows * 128, 80 + i, 2), [rows, 128]);
      const residual = tf.tensor2d(randomValues(rows * 96, 90 + i, 2), [rows, 96]);
      const diff = await compareWithReference(
        (input, r) => packedMatMul(input, packed, { addend: r }),
        (input, r) => tf.add(tf.matMul(input, dense, false, true), r),
        [x, residual],
      );
      expect(Math.max(diff.value, ...diff.grads), `${c.label}, ${rows} rows`).toBeLessThan(TOLERANCE);
      const wrong = tf.zeros([rows, 95]);
      expect(() => packedMatMul(x, packed, { addend: wrong })).toThrow(/addend must be float32/);
      disposePackedWeight(packed);
      tf.dispose([dense, x, residual, wrong]);
    }
  }, 120_000);

  if (backend === "webgpu")
    it("every tile of the tiled kernel unpacks W as it stages it: forward and dx, each format, ragged edges", async () => {
      // 130 rows × 96 or 192 outputs: past one 128-row tile, partial edge tiles; each tile shape forced in turn.
      for (const [tile] of MATMUL_TILES.entries()) {
        const c = CASES[tile % CASES.length];
        const out = tile % 2 === 0 ? 96 : 192;
        const rows = tile === MATMUL_TILES.length - 1 ? 3 : 130;
        const data = packWeight(weightValues(out * 128, 40 + tile), { ...c, outFeatures: out, inFeatures: 128 });
        const dense = tf.tensor2d(unpackWeight(data), [out, 128]);
        const packed = packedWeightTensors(data);
        const attrs = { format: PACKED_FORMAT_CODES[data.format], outFeatures: out, inFeatures: 128 };
        const kernelAttrs = { ...attrs, blockSize: data.blockSize, quantizeActivations: 0, tile };
        const x = tf.tensor2d(randomValues(rows * 128, 50 + tile, 2), [rows, 128]);
        const dy = tf.tensor2d(randomValues(rows * out, 60 + tile, 2), [rows, out]);
        const inputs = { words: packed.words, scales: packed.scales };
        const y = tf.engine().runKernel<tf.Tensor>(PACKED_MATMUL, { x, ...inputs }, kernelAttrs);
        const dx = tf.engine().runKernel<tf.Tensor>(PACKED_MATMUL_GRAD_X, { dy, ...inputs }, kernelAttrs);
        const label = `tile ${JSON.stringify(MATMUL_TILES[tile])} ${c.label}`;
        expect(maxScaledDiff(await y.data(), await tf.matMul(x, dense, false, true).data()), label).toBeLessThan(
          TOLERANCE,
        );
        expect(maxScaledDiff(await dx.data(), await tf.matMul(dy, dense).data()), `${label} dx`).toBeLessThan(
          TOLERANCE,
        );
        disposePackedWeight(packed);
        tf.dispose([dense, x, dy, y, dx]);
      }
    }, 300_000);

  it("unpackWeightTensor gives exactly what core's reference dequantizers give", async () => {
    for (const c of CASES) {
      const data = packWeight(weightValues(24 * 128, 8), { ...c, outFeatures: 24, inFeatures: 128 });
      const packed = packedWeightTensors(data);
      const unpacked = unpackWeightTensor(packed);
      expect(unpacked.shape).toEqual([24, 128]);
      expect(await unpacked.data(), c.label).toEqual(unpackWeight(data));
      disposePackedWeight(packed);
      unpacked.dispose();
    }
  });

  it("unpackWeightRows gives the reference dequantizer's rows, in the order asked, repeats included", async () => {
    const ids = [23, 0, 7, 7, 19];
    for (const c of CASES) {
      const data = packWeight(weightValues(24 * 128, 9), { ...c, outFeatures: 24, inFeatures: 128 });
      const reference = unpackWeight(data);
      const expected = new Float32Array(ids.flatMap((id) => [...reference.subarray(id * 128, (id + 1) * 128)]));
      const packed = packedWeightTensors(data);
      const idsTensor = tf.tensor1d(ids, "int32");
      const rows = unpackWeightRows(packed, idsTensor);
      expect(rows.shape).toEqual([ids.length, 128]);
      expect(await rows.data(), c.label).toEqual(expected);
      disposePackedWeight(packed);
      tf.dispose([rows, idsTensor]);
    }
  });

  it("int8 decode with int8 activations: llama.cpp's q8_0 × q8_0 on cpu and wasm, the float product on webgpu", async () => {
    for (const rows of [1, 3]) {
      const shape = { format: "int8" as const, outFeatures: 40, inFeatures: 160 };
      const data = packWeight(weightValues(40 * 160, 31), shape);
      const packed = packedWeightTensors(data);
      const xValues = randomValues(rows * 160, 32, 2);
      const x = tf.tensor2d(xValues, [rows, 160]);
      const dense = tf.tensor2d(unpackWeight(data), [40, 160]);
      const got = await packedMatMul(x, packed, { quantizeActivations: true }).data();
      const exact = await tf.matMul(x, dense, false, true).data();
      if (backend === "webgpu") {
        expect(maxScaledDiff(got, exact)).toBeLessThan(TOLERANCE);
      } else {
        const want = new Float32Array(rows * 40);
        q8ActivationMatMul(
          xValues,
          data.words,
          data.scales,
          { ...shape, format: 2, blockSize: 32, quantizeActivations: 1 },
          rows,
          want,
        );
        expect(maxScaledDiff(got, want), `rows ${rows}: kernel vs q8 reference`).toBeLessThan(TOLERANCE);
        // The activations' rounding (half a step of amax/127 per value) is all that separates it from the float product.
        const diff = maxScaledDiff(got, exact);
        expect(diff, `rows ${rows}: vs float product`).toBeLessThan(0.02);
        expect(diff).toBeGreaterThan(0); // the activations really were quantized
      }
      disposePackedWeight(packed);
      tf.dispose([x, dense]);
    }
  });

  if (backend === "wasm")
    it("wasm: the JS loops (no llamats SIMD kernels) match too", async () => {
      expect(wasmKernelsInstalled()).toBe(true); // so the test above ran the C kernel
      uninstallWasmKernels();
      try {
        await compareAll();
      } finally {
        installWasmKernels();
      }
    });

  it("gives the weight no gradient and keeps tf.memory() flat", async () => {
    const data = packWeight(weightValues(16 * 64, 3), { format: "int8", outFeatures: 16, inFeatures: 64 });
    const packed = packedWeightTensors(data);
    const x = tf.tensor(randomValues(5 * 64, 4), [5, 64]);
    const step = async () => (await valueAndGrads((input) => packedMatMul(input, packed), [x])).grads[0][0];
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
    expect(() =>
      tf.grads((w: tf.Tensor) => tf.sum(packedMatMul(x, { ...packed, scales: w as tf.Tensor1D })))([packed.scales]),
    ).toThrow();
    const wrong = tf.zeros([5, 63]);
    expect(() => packedMatMul(wrong, packed)).toThrow(ShapeMismatchError);
    disposePackedWeight(packed);
    tf.dispose([x, wrong]);
  });
});
