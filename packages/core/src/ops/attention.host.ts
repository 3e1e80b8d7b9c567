import type * as tf from "@tensorflow/tfjs-core";
import { headDims, headLayout, type HeadLayout } from "./head-layout.js";
import { at, copyFloats, type Buf, type HostMath } from "./host-math.js";
import type { KernelArgs } from "./kernel-types.js";

/** The attention problem as the kernels see it: GQA groups of `groups · sq` query rows per (batch, kv head) pair. */
export interface AttentionDims {
  batch: number;
  heads: number;
  kvHeads: number;
  sq: number;
  sk: number;
  d: number;
  /** 1 when the mask is shared by the batch, else batch; 0 without a mask. */
  maskBatch: number;
  scale: number;
  /** How q, k, v, o, dy and the outputs are laid out (the host loops below take "bhsd"; their callers permute). */
  layout: HeadLayout;
  /** Score floats held at once (default SCRATCH_FLOATS; tests lower it to run several chunks). */
  chunkFloats?: number;
}

export interface AttentionBufs {
  q: Buf;
  k: Buf;
  v: Buf;
  mask: Buf | null;
}

/** dims from tensor shapes: q [b, h, sq, d], k [b, kvh, sk, d] (in `layout`), mask [mb, 1, sq, sk] or none. */
export function attentionDims(
  q: readonly number[],
  k: readonly number[],
  mask: readonly number[] | null,
  scale: number,
  layout: HeadLayout = "bhsd",
): AttentionDims {
  const query = headDims(q, layout);
  const key = headDims(k, layout);
  return {
    batch: query.batch,
    heads: query.heads,
    kvHeads: key.heads,
    sq: query.seq,
    sk: key.seq,
    d: query.dim,
    maskBatch: mask ? mask[0] : 0,
    scale,
    layout,
  };
}

/** dims of an attention kernel call: inputs q, k (and mask), attrs { scale, layout }. */
export function attentionDimsOf(args: KernelArgs): AttentionDims {
  const { q, k, mask } = args.inputs as Record<"q" | "k", tf.TensorInfo> & { mask?: tf.TensorInfo };
  const attrs = args.attrs ?? {};
  return attentionDims(
    q.shape,
    k.shape,
    mask ? mask.shape : null,
    attrs.scale as number,
    headLayout(attrs.layout, "attention"),
  );
}

/** Score floats held at once: (batch, kv head) pairs are handled in chunks that fit (at least one pair). */
const SCRATCH_FLOATS = 1 << 22;

/**
 * Shifted scores are floored here, where exp is just above float32's smallest normal, and their exp then zeroed
 * (below EXP_FLOOR_VALUE): the SIMD exp never makes denormals, which x86 computes ~100× slower, and every masked key
 * of a causal mask would. An unnormalised weight under 1.7e-38 becomes 0.
 */
const EXP_FLOOR = -87;
/** Above exp(EXP_FLOOR) ≈ 1.646e-38. */
const EXP_FLOOR_VALUE = 1.7e-38;

/** Query rows of one (batch, kv head) pair: its group's heads × sq, contiguous in q. */
const groupRows = (dims: AttentionDims) => (dims.heads / dims.kvHeads) * dims.sq;

/** (batch, kv head) pairs per chunk: as many as fit SCRATCH_FLOATS, at least one. */
function chunkPairs(dims: AttentionDims): number {
  const perPair = groupRows(dims) * dims.sk;
  return Math.min(
    dims.batch * dims.kvHeads,
    Math.max(1, Math.floor((dims.chunkFloats ?? SCRATCH_FLOATS) / Math.max(1, perPair))),
  );
}

/** One chunk's scratch: scores [rows, sk], 1/Σ per row, a [rows, d] side (q · scale, then dO · 1/Σ), and last the backward's dS [rows, sk]. */
function scratchLayout(
  dims: AttentionDims,
  scratch: Buf,
): { scores: Buf; inv: Buf; side: Buf; grad: Buf; forwardFloats: number; backwardFloats: number } {
  const rows = chunkPairs(dims) * groupRows(dims);
  const square = rows * dims.sk;
  const forwardFloats = square + rows + rows * dims.d;
  return {
    scores: scratch,
    inv: at(scratch, square),
    side: at(scratch, square + rows),
    grad: at(scratch, forwardFloats),
    forwardFloats,
    backwardFloats: forwardFloats + square,
  };
}

/** Scratch floats the forward or backward needs: taken by the caller before any heap view (allocating can grow, and so replace, the wasm heap). */
export function scratchFloats(dims: AttentionDims, pass: "forward" | "backward"): number {
  const layout = scratchLayout(dims, { array: new Float32Array(0), offset: 0 });
  return pass === "forward" ? layout.forwardFloats : layout.backwardFloats;
}

/**
 * Scores of the pairs [p0, p0 + n): the mask copied under each group's rows, then (q · scale)·kᵀ added by one
 * accumulating matmul (no pass of JS over the scores for the scale and mask).
 */
function computeScores(
  bufs: AttentionBufs,
  dims: AttentionDims,
  p0: number,
  n: number,
  scores: Buf,
  qScaled: Buf,
  math: HostMath,
): void {
  const { sq, sk, d } = dims;
  const rows = groupRows(dims);
  const q = at(bufs.q, p0 * rows * d);
  const scale = dims.scale;
  for (let i = 0; i < n * rows * d; i++) qScaled.array[qScaled.offset + i] = q.array[q.offset + i] * scale;
  const mask = bufs.mask;
  if (mask) {
    for (let p = 0; p < n; p++) {
      const b = Math.floor((p0 + p) / dims.kvHeads);
      const from = at(mask, (dims.maskBatch === 1 ? 0 : b) * sq * sk);
      for (let g = 0; g < rows / sq; g++) copyFloats(from, at(scores, (p * rows + g * sq) * sk), sq * sk);
    }
  }
  const k = at(bufs.k, p0 * sk * d);
  math.gemm(qScaled, k, scores, {
    m: rows,
    n: sk,
    k: d,
    transposeA: false,
    transposeB: true,
    batch: n,
    strideA: rows * d,
    strideB: sk * d,
    strideC: rows * sk,
    accumulate: mask !== null,
  });
}

/** Each of `count` score rows minus its max, floored at EXP_FLOOR; a row of all -Infinity stays (−∞ − −∞ is NaN). */
function shiftRows(s: Buf, count: number, sk: number): void {
  const x = s.array;
  for (let r = 0; r < count; r++) {
    const row = s.offset + r * sk;
    let max = -Infinity;
    for (let j = 0; j < sk; j++) if (x[row + j] > max) max = x[row + j];
    if (max === -Infinity) continue;
    for (let j = 0; j < sk; j++) {
      const v = x[row + j] - max;
      x[row + j] = v < EXP_FLOOR ? EXP_FLOOR : v;
    }
  }
}

/** 1 / Σ of each of `count` rows of exp'd scores into inv (0 for a row summing to 0: all -Infinity), zeroing floored weights (see EXP_FLOOR). */
function rowInverseSums(e: Buf, inv: Buf, count: number, sk: number): void {
  const x = e.array;
  for (let r = 0; r < count; r++) {
    const row = e.offset + r * sk;
    let sum = 0;
    for (let j = 0; j < sk; j++) {
      const v = x[row + j];
      if (v < EXP_FLOOR_VALUE) x[row + j] = 0;
      else sum += v;
    }
    inv.array[inv.offset + r] = sum === 0 ? 0 : 1 / sum;
  }
}

/**
 * Unnormalised weights E = exp(score − row max) of the pairs [p0, p0 + n) in `scores`, and 1/Σ per row in `inv`:
 * P = E · inv is never written out; the callers scale the [rows, d] side instead.
 */
function weights(
  bufs: AttentionBufs,
  dims: AttentionDims,
  p0: number,
  n: number,
  buffers: ReturnType<typeof scratchLayout>,
  math: HostMath,
): void {
  const count = n * groupRows(dims);
  computeScores(bufs, dims, p0, n, buffers.scores, buffers.side, math);
  shiftRows(buffers.scores, count, dims.sk);
  math.exp(buffers.scores, count * dims.sk);
  rowInverseSums(buffers.scores, buffers.inv, count, dims.sk);
}

/** Rows of `x` ([count, d]) times inv[row], into `out` (which may be x). */
function scaleRows(x: Buf, inv: Buf, out: Buf, count: number, d: number): void {
  for (let r = 0; r < count; r++) {
    const f = inv.array[inv.offset + r];
    for (let c = 0; c < d; c++) out.array[out.offset + r * d + c] = x.array[x.offset + r * d + c] * f;
  }
}

/** Forward: out [b, h, sq, d] = softmax(q·kᵀ · scale + mask) · v, a chunk of (batch, kv head) pairs at a time. */
export function attentionForward(
  bufs: AttentionBufs,
  out: Buf,
  dims: AttentionDims,
  math: HostMath,
  scratch: Buf,
): void {
  const { sk, d } = dims;
  const rows = groupRows(dims);
  const pairs = dims.batch * dims.kvHeads;
  const chunk = chunkPairs(dims);
  const buffers = scratchLayout(dims, scratch);
  for (let p0 = 0; p0 < pairs; p0 += chunk) {
    const n = Math.min(chunk, pairs - p0);
    const o = at(out, p0 * rows * d);
    weights(bufs, dims, p0, n, buffers, math);
    math.gemm(buffers.scores, at(bufs.v, p0 * sk * d), o, {
      m: rows,
      n: d,
      k: sk,
      transposeA: false,
      transposeB: false,
      batch: n,
      strideA: rows * sk,
      strideB: sk * d,
      strideC: rows * d,
    });
    scaleRows(o, buffers.inv, o, n * rows, d);
  }
}

/** dS = E · inv ∘ (dP − D) · scale in place of dP, with D[row] = dO[row] · O[row]. */
function scoreGradRows(
  e: Buf,
  inv: Buf,
  dp: Buf,
  dO: Buf,
  o: Buf,
  count: number,
  sk: number,
  d: number,
  scale: number,
): void {
  for (let r = 0; r < count; r++) {
    let dot = 0;
    for (let c = 0; c < d; c++) dot += dO.array[dO.offset + r * d + c] * o.array[o.offset + r * d + c];
    const f = inv.array[inv.offset + r] * scale;
    const row = r * sk;
    for (let j = 0; j < sk; j++) {
      const i = dp.offset + row + j;
      dp.array[i] = e.array[e.offset + row + j] * f * (dp.array[i] - dot);
    }
  }
}

/**
 * Backward from the forward's output `o` and its gradient `dO`: the weights are recomputed exactly as the forward
 * made them, then dV = Pᵀ·dO (as Eᵀ·(dO · inv)), dP = dO·Vᵀ, dS = P ∘ (dP − rowsum(dO ∘ O)) · scale, dQ = dS·K,
 * dK = dSᵀ·Q. dK and dV sum over the query heads of their group by the shape of the matmuls (its rows are contiguous).
 */
export function attentionBackward(
  bufs: AttentionBufs & { o: Buf; dy: Buf },
  grads: { dq: Buf; dk: Buf; dv: Buf },
  dims: AttentionDims,
  math: HostMath,
  scratch: Buf,
): void {
  const gemm = math.gemm;
  const { sk, d } = dims;
  const rows = groupRows(dims);
  const pairs = dims.batch * dims.kvHeads;
  const chunk = chunkPairs(dims);
  const buffers = scratchLayout(dims, scratch);
  const { scores: e, grad: dp, inv, side } = buffers;
  for (let p0 = 0; p0 < pairs; p0 += chunk) {
    const n = Math.min(chunk, pairs - p0);
    const q = at(bufs.q, p0 * rows * d);
    const k = at(bufs.k, p0 * sk * d);
    const v = at(bufs.v, p0 * sk * d);
    const dO = at(bufs.dy, p0 * rows * d);
    // Per pair: scores and their gradient [rows, sk]; q, dO, dq [rows, d]; k, v, dk, dv [sk, d].
    const byPair = { batch: n, transposeB: false };
    const toKeys = {
      ...byPair,
      m: sk,
      n: d,
      k: rows,
      transposeA: true,
      strideA: rows * sk,
      strideB: rows * d,
      strideC: sk * d,
    };
    weights(bufs, dims, p0, n, buffers, math);
    scaleRows(dO, inv, side, n * rows, d);
    gemm(e, side, at(grads.dv, p0 * sk * d), toKeys);
    gemm(dO, v, dp, {
      ...byPair,
      m: rows,
      n: sk,
      k: d,
      transposeA: false,
      transposeB: true,
      strideA: rows * d,
      strideB: sk * d,
      strideC: rows * sk,
    });
    scoreGradRows(e, inv, dp, dO, at(bufs.o, p0 * rows * d), n * rows, sk, d, dims.scale);
    gemm(dp, k, at(grads.dq, p0 * rows * d), {
      ...byPair,
      m: rows,
      n: d,
      k: sk,
      transposeA: false,
      strideA: rows * sk,
      strideB: sk * d,
      strideC: rows * d,
    });
    gemm(dp, q, at(grads.dk, p0 * sk * d), toKeys);
  }
}
