import * as tf from "@tensorflow/tfjs-core";
import { ShapeMismatchError } from "../errors.js";
import { ATTENTION, ATTENTION_MASKED, ensureAttentionKernels, repeatHeads } from "./attention.kernels.js";
import { headDims, headLayout, type HeadLayout } from "./head-layout.js";
import { hasLlamatsKernel } from "./registry.js";

export interface AttentionOptions {
  /** Multiplies q·kᵀ before the mask is added (default 1/√headDim). */
  scale?: number;
  /**
   * The layout of q, k, v and the output: "bhsd" [batch, heads, seq, headDim] (default) or "bshd"
   * [batch, seq, heads, headDim], a projection's [batch, seq, heads·headDim] reshaped (no transposes around the op).
   */
  layout?: HeadLayout;
}

function shapeError(message: string, tensor: string, expected: number[], found: readonly number[]): ShapeMismatchError {
  return new ShapeMismatchError(`attention: ${message}`, { tensor, expected, found: [...found] });
}

/** q [b, h, sq, d], k and v [b, kvh, sk, d] (in `layout`) with h a multiple of kvh, mask [b or 1, 1, sq, sk]; all float32. */
function check(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor | null, layout: HeadLayout): void {
  const axes = layout === "bshd" ? "[batch, seq, heads, headDim]" : "[batch, heads, seq, headDim]";
  for (const [name, t] of [
    ["q", q],
    ["k", k],
    ["v", v],
  ] as const) {
    if (t.rank !== 4 || t.dtype !== "float32")
      throw shapeError(`${name} must be float32 ${axes}, found ${t.dtype} [${t.shape}].`, name, [], t.shape);
  }
  const { batch: b, heads: h, seq: sq, dim: d } = headDims(q.shape, layout);
  const { heads: kvh, seq: sk } = headDims(k.shape, layout);
  const kv = layout === "bshd" ? [b, sk, kvh, d] : [b, kvh, sk, d];
  if (k.shape[0] !== b || k.shape[3] !== d || kvh === 0 || h % kvh !== 0) {
    const expected = layout === "bshd" ? `[${b}, keys, kvHeads, ${d}]` : `[${b}, kvHeads, keys, ${d}]`;
    throw shapeError(
      `k must be ${expected} (${layout}) with kvHeads dividing the ${h} query heads (GQA), found [${k.shape}] for q [${q.shape}].`,
      "k",
      kv,
      k.shape,
    );
  }
  if (v.shape.some((n, i) => n !== kv[i]))
    throw shapeError(`v must have k's shape [${kv}], found [${v.shape}].`, "v", kv, v.shape);
  if (
    mask &&
    (mask.rank !== 4 ||
      mask.dtype !== "float32" ||
      (mask.shape[0] !== 1 && mask.shape[0] !== b) ||
      mask.shape[1] !== 1 ||
      mask.shape[2] !== sq ||
      mask.shape[3] !== sk)
  ) {
    throw shapeError(
      `mask must be additive float32 [${b} or 1, 1, ${sq}, ${sk}] (queries × keys), found ${mask.dtype} [${mask.shape}].`,
      "mask",
      [b, 1, sq, sk],
      mask.shape,
    );
  }
}

/**
 * Scaled dot-product attention: softmax(q·kᵀ · scale + mask) · v per (batch, head), in q's layout ([b, h, sq, d],
 * or [b, sq, h, d] with layout "bshd": every kernel indexes that layout, so no transpose runs). GQA: query head
 * j reads key/value head ⌊j / (h / kvh)⌋, with no repeated K/V made. The softmax runs in float32 after subtracting
 * the row maximum; the mask is additive (HF's float-min for hidden keys), and a row whose keys are all -Infinity
 * gives 0, not NaN. One llamats kernel on cpu, wasm and webgpu; its gradient (dq, dk, dv) one more, recomputing the
 * softmax from q and k, so no [sq, sk] tensor is kept between forward and backward.
 */
export function attention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor4D | null,
  options: AttentionOptions = {},
): tf.Tensor4D {
  const layout = headLayout(options.layout, "attention");
  check(q, k, v, mask, layout);
  const scale = options.scale ?? 1 / Math.sqrt(q.shape[3]);
  ensureAttentionKernels();
  if (!hasLlamatsKernel(ATTENTION)) return attentionReference(q, k, v, mask, scale, layout);
  // Two kernel names: tfjs saves a gradient's inputs by name, and an absent mask cannot be saved.
  return mask
    ? tf.engine().runKernel(ATTENTION_MASKED, { q, k, v, mask }, { scale, layout })
    : tf.engine().runKernel(ATTENTION, { q, k, v }, { scale, layout });
}

/**
 * The same from plain tfjs ops (K/V repeated for GQA): the fallback on backends without llamats kernels, and the
 * tests' reference. A "bshd" layout is transposed to "bhsd" and back around it.
 */
export function attentionReference(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: tf.Tensor4D | null,
  scale: number,
  layout: HeadLayout = "bhsd",
): tf.Tensor4D {
  if (layout === "bshd") {
    return tf.tidy(() => {
      const swap = (t: tf.Tensor4D) => tf.transpose(t, [0, 2, 1, 3]);
      return swap(attentionReference(swap(q), swap(k), swap(v), mask, scale));
    });
  }
  return tf.tidy(() => {
    const heads = q.shape[1];
    const scores = tf.mul(tf.matMul(q, repeatHeads(k, heads), false, true), scale);
    const probs = tf.softmax(mask ? tf.add(scores, mask) : scores);
    return tf.matMul<tf.Tensor4D>(probs, repeatHeads(v, heads));
  });
}
