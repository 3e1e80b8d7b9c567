import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { ShapeMismatchError } from "../errors.js";
import { installWasmKernels, uninstallWasmKernels, wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { attention, attentionReference } from "./attention.js";
import { ATTENTION, ATTENTION_GRAD, ATTENTION_MASKED, ensureAttentionKernels } from "./attention.kernels.js";
import { flashGradStorageBytes } from "./attention-flash-grad.webgpu.js";
import { FLASH_TILES } from "./attention-flash.webgpu.js";
import { KERNEL_BACKENDS } from "./registry.js";
import { compareWithReference, maxScaledDiff, randomValues, valueAndGrads } from "./test-support.js";

const TOLERANCE = 1e-5;
/** HF's additive value for a hidden key (float32 min), as llama-model's masks use. */
const MASKED = -3.4028234663852886e38;

interface Case {
  name: string;
  /** [batch, heads, kvHeads, queries, keys, headDim] */
  dims: [number, number, number, number, number, number];
  /** Hidden keys per batch row before the causal part (left padding), or null for no mask; sharedMask: [1, 1, sq, sk]. */
  padding: number[] | null;
  sharedMask?: boolean;
}

const CASES: Case[] = [
  { name: "GQA prefill, causal with left padding", dims: [2, 4, 2, 5, 5, 8], padding: [0, 2] },
  { name: "KV cache step (sq 1, sk 7), GQA, padding", dims: [2, 4, 2, 1, 7, 8], padding: [3, 0] },
  { name: "odd sizes, MQA, no mask", dims: [1, 3, 1, 3, 11, 5], padding: null },
  { name: "shared causal mask over the batch, past keys", dims: [2, 2, 2, 3, 6, 6], padding: [0], sharedMask: true },
  { name: "more keys than a workgroup (sk 300)", dims: [1, 2, 1, 2, 300, 4], padding: [1] },
  { name: "head size past a workgroup (d 300)", dims: [1, 2, 2, 2, 3, 300], padding: null },
];

/** Causal mask for queries at the last sq of sk positions, with `pad[b]` leading keys hidden; a query always sees itself. */
function causalMask(batch: number, sq: number, sk: number, pad: number[]): tf.Tensor4D {
  const values = new Float32Array(batch * sq * sk);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < sq; i++) {
      const self = sk - sq + i;
      for (let j = 0; j < sk; j++) if (j !== self && (j > self || j < pad[b])) values[(b * sq + i) * sk + j] = MASKED;
    }
  }
  return tf.tensor4d(values, [batch, 1, sq, sk]);
}

function tensors(c: Case, seed: number): { q: tf.Tensor4D; k: tf.Tensor4D; v: tf.Tensor4D; mask: tf.Tensor4D | null } {
  const [b, h, kvh, sq, sk, d] = c.dims;
  const q = tf.tensor4d(randomValues(b * h * sq * d, seed, 2), [b, h, sq, d]);
  const k = tf.tensor4d(randomValues(b * kvh * sk * d, seed + 1, 2), [b, kvh, sk, d]);
  const v = tf.tensor4d(randomValues(b * kvh * sk * d, seed + 2), [b, kvh, sk, d]);
  const mask = c.padding ? causalMask(c.sharedMask ? 1 : b, sq, sk, c.padding) : null;
  return { q, k, v, mask };
}

async function compareCase(c: Case, seed: number): Promise<{ value: number; grads: number[] }> {
  const { q, k, v, mask } = tensors(c, seed);
  const scale = 1 / Math.sqrt(c.dims[5]);
  const diff = await compareWithReference(
    (a, b, e) => attention(a as tf.Tensor4D, b as tf.Tensor4D, e as tf.Tensor4D, mask),
    (a, b, e) => attentionReference(a as tf.Tensor4D, b as tf.Tensor4D, e as tf.Tensor4D, mask, scale),
    [q, k, v],
  );
  tf.dispose([q, k, v, ...(mask ? [mask] : [])]);
  return diff;
}

const swap = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1, 3]) as tf.Tensor4D;

/**
 * The case's q, k, v as [batch, seq, heads, headDim] through layout "bshd", against the bhsd op transposed around
 * it (values, dq, dk, dv; and the mask's gradient when `softMask`).
 */
async function compareLayouts(c: Case, seed: number, softMask = false): Promise<{ value: number; grads: number[] }> {
  const { q, k, v, mask } = tensors(c, seed);
  const soft = softMask && mask ? tf.tensor4d(randomValues(mask.size, seed + 3, 3), mask.shape) : null;
  const xs = [swap(q), swap(k), swap(v), ...(soft ? [soft] : [])];
  const maskOf = (m: tf.Tensor[]) => (soft ? (m[0] as tf.Tensor4D) : mask);
  const diff = await compareWithReference(
    (a, b, e, ...m) => attention(a as tf.Tensor4D, b as tf.Tensor4D, e as tf.Tensor4D, maskOf(m), { layout: "bshd" }),
    (a, b, e, ...m) => swap(attention(swap(a), swap(b), swap(e), maskOf(m))),
    xs,
  );
  tf.dispose([q, k, v, ...xs, ...(mask ? [mask] : [])]);
  return diff;
}

describe("attention kernels", () => {
  it("are registered for cpu, wasm and webgpu before any backend starts, with a gradient for both forward names", () => {
    ensureAttentionKernels();
    ensureAttentionKernels();
    for (const name of [ATTENTION, ATTENTION_MASKED, ATTENTION_GRAD])
      for (const backend of KERNEL_BACKENDS) expect(tf.getKernel(name, backend), `${name} on ${backend}`).toBeDefined();
    for (const name of [ATTENTION, ATTENTION_MASKED]) expect(tf.getGradient(name)).toBeDefined();
  });
});

// Lavapipe compiles each WGSL program on the CPU: generous time on webgpu.
describe.each(TEST_BACKENDS)("attention on %s", { timeout: 120_000 }, (backend) => {
  beforeAll(() => useBackend(backend), 60_000);

  it("matches matMul + mask + softmax + matMul (K/V repeated for GQA) in value and in dq, dk, dv", async () => {
    for (const [i, c] of CASES.entries()) {
      const diff = await compareCase(c, 10 * i + 1);
      expect(diff.value, `${c.name}: value`).toBeLessThan(TOLERANCE);
      diff.grads.forEach((g, j) => expect(g, `${c.name}: d${"qkv"[j]}`).toBeLessThan(TOLERANCE));
    }
  });

  it("layout bshd ([batch, seq, heads, headDim] in and out) matches the bhsd op transposed, in value and dq, dk, dv", async () => {
    for (const [i, c] of CASES.entries()) {
      const diff = await compareLayouts(c, 10 * i + 5);
      expect(diff.value, `${c.name}: value`).toBeLessThan(TOLERANCE);
      diff.grads.forEach((g, j) => expect(g, `${c.name}: d${"qkv"[j]}`).toBeLessThan(TOLERANCE));
    }
    const masked = await compareLayouts(CASES[0], 3, true);
    expect(Math.max(masked.value, ...masked.grads), "bshd with the mask's gradient").toBeLessThan(TOLERANCE);
    expect(masked.grads).toHaveLength(4);
  });

  if (backend === "webgpu")
    it("every flash tile, and the row kernels they fall back to, give the reference's value, dq, dk and dv (bhsd and bshd)", async () => {
      ensureAttentionKernels();
      const limit = (tf.backend() as unknown as { device: { limits: { maxComputeWorkgroupStorageSize: number } } })
        .device.limits.maxComputeWorkgroupStorageSize;
      for (const forced of [...FLASH_TILES.keys(), -1]) {
        for (const [i, c] of CASES.entries()) {
          const d = c.dims[5];
          // A tile past the device's workgroup memory (d 300 here) never runs: the row kernels cover that case.
          if (forced >= 0 && flashGradStorageBytes(FLASH_TILES[forced], d) > limit) continue;
          for (const layout of ["bhsd", "bshd"] as const) {
            const bhsd = tensors(c, 20 + i);
            const { mask } = bhsd;
            const [q, k, v] = [bhsd.q, bhsd.k, bhsd.v].map((t) => (layout === "bshd" ? swap(t) : t.clone()));
            const scale = 1 / Math.sqrt(d);
            const run = (a: tf.Tensor, b: tf.Tensor, e: tf.Tensor) =>
              tf
                .engine()
                .runKernel<tf.Tensor>(
                  mask ? ATTENTION_MASKED : ATTENTION,
                  mask ? { q: a, k: b, v: e, mask } : { q: a, k: b, v: e },
                  { scale, layout, flashTile: forced },
                );
            const diff = await compareWithReference(
              run,
              (a, b, e) =>
                attentionReference(a as tf.Tensor4D, b as tf.Tensor4D, e as tf.Tensor4D, mask, scale, layout),
              [q, k, v],
            );
            expect(Math.max(diff.value, ...diff.grads), `${c.name}, tile ${forced}, ${layout}`).toBeLessThan(TOLERANCE);
            tf.dispose([q, k, v, bhsd.q, bhsd.k, bhsd.v, ...(mask ? [mask] : [])]);
          }
        }
      }
    }, 300_000);

  it("takes a scale, and gives the mask its gradient when asked", async () => {
    const c = CASES[0];
    const { q, k, v, mask } = tensors(c, 7);
    // A soft mask (not ±float-min), so its gradient is informative.
    const soft = tf.tensor4d(randomValues(mask!.size, 8, 3), mask!.shape);
    const diff = await compareWithReference(
      (a, b, e, m) => attention(a as tf.Tensor4D, b as tf.Tensor4D, e as tf.Tensor4D, m as tf.Tensor4D, { scale: 0.7 }),
      (a, b, e, m) => attentionReference(a as tf.Tensor4D, b as tf.Tensor4D, e as tf.Tensor4D, m as tf.Tensor4D, 0.7),
      [q, k, v, soft],
    );
    expect(Math.max(diff.value, ...diff.grads)).toBeLessThan(TOLERANCE);
    tf.dispose([q, k, v, mask!, soft]);
  });

  it("a fully masked row: float-min weighs its keys uniformly (as torch), -Infinity gives 0; no NaN either way", async () => {
    const [b, h, sq, sk, d] = [1, 2, 3, 4, 4];
    const q = tf.tensor4d(randomValues(b * h * sq * d, 3), [b, h, sq, d]);
    const k = tf.tensor4d(randomValues(b * h * sk * d, 4), [b, h, sk, d]);
    const v = tf.tensor4d(randomValues(b * h * sk * d, 5), [b, h, sk, d]);
    const firstRowMasked = (value: number) =>
      tf.tensor4d(
        Float32Array.from({ length: sq * sk }, (_, i) => (i < sk ? value : 0)),
        [1, 1, sq, sk],
      );
    const [floatMin, minusInf, large] = [MASKED, -Infinity, -1e30].map(firstRowMasked);
    const run = (mask: tf.Tensor4D) =>
      valueAndGrads((x, y, z) => attention(x as tf.Tensor4D, y as tf.Tensor4D, z as tf.Tensor4D, mask), [q, k, v]);
    // The reference sees the same uniform row through -1e30 (tfjs's own softmax gives NaN for all-float-min rows on webgpu).
    const want = await valueAndGrads(
      (x, y, z) => attentionReference(x as tf.Tensor4D, y as tf.Tensor4D, z as tf.Tensor4D, large, 0.5),
      [q, k, v],
    );
    const uniform = await run(floatMin);
    expect(maxScaledDiff(uniform.value, want.value)).toBeLessThan(TOLERANCE);
    uniform.grads.forEach((g, i) => expect(maxScaledDiff(g, want.grads[i]), `d${"qkv"[i]}`).toBeLessThan(TOLERANCE));
    const zero = await run(minusInf);
    for (const values of [zero.value, ...zero.grads]) expect(values.every(Number.isFinite)).toBe(true);
    for (let head = 0; head < h; head++) {
      const row = head * sq * d;
      expect(Array.from(zero.value.subarray(row, row + d))).toEqual(new Array(d).fill(0));
      // The other rows do not see row 0's mask.
      expect(
        maxScaledDiff(zero.value.subarray(row + d, row + sq * d), want.value.subarray(row + d, row + sq * d)),
      ).toBeLessThan(TOLERANCE);
    }
    tf.dispose([q, k, v, floatMin, minusInf, large]);
  });

  it("keeps tf.memory() flat, and names the tensor whose shape does not fit", async () => {
    const { q, k, v, mask } = tensors(CASES[1], 5);
    const step = async () =>
      (
        await valueAndGrads(
          (a, b, c) => attention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, mask),
          [q, k, v],
        )
      ).grads[0][0];
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
    const three = tf.zeros<tf.Rank.R4>([2, 3, 7, 8]);
    const short = tf.zeros<tf.Rank.R4>([2, 1, 1, 6]);
    expect(() => attention(q, three, three, null)).toThrow(/kvHeads dividing the 4 query heads/);
    expect(() => attention(q, k, three, null)).toThrow(ShapeMismatchError);
    expect(() => attention(q, k, v, short)).toThrow(/mask must be additive float32 \[2 or 1, 1, 1, 7\]/);
    tf.dispose([q, k, v, mask!, three, short]);
  });

  if (backend === "wasm")
    it("wasm: the JS matmul (no llamats SIMD kernels) matches too", async () => {
      expect(wasmKernelsInstalled()).toBe(true); // so the tests above ran llamats' SIMD gemm
      uninstallWasmKernels();
      try {
        for (const c of [CASES[0], CASES[1]]) {
          const diff = await compareCase(c, 3);
          expect(Math.max(diff.value, ...diff.grads)).toBeLessThan(TOLERANCE);
          const bshd = await compareLayouts(c, 4);
          expect(Math.max(bshd.value, ...bshd.grads), `${c.name}, bshd`).toBeLessThan(TOLERANCE);
        }
      } finally {
        installWasmKernels();
      }
    });
});
