import * as tf from '@tensorflow/tfjs-core';
import type { LlamaConfig } from './config.js';
import type { KvCache } from './kv-cache.js';
import { Linear, type LinearLayer } from './linear.js';
import { ChunkedLinear } from './chunked-linear.js';

/** One layer's weights as the single-token decode step uses them. */
export interface DecodeLayerWeights {
  inputLayernorm: tf.Tensor;
  postAttentionLayernorm: tf.Tensor;
  /** q, k, v: their outputs are concatenated (no fused copy of the weights: it would cost memory at load). */
  qkv: [LinearLayer, LinearLayer, LinearLayer];
  o: LinearLayer;
  gateUp: [LinearLayer, LinearLayer];
  down: LinearLayer;
}

export interface DecodeContext {
  config: LlamaConfig;
  /** [d, d] rotation x·R = x·cos + rotate_half(x)·sin at the step's position, or [batch, d, d] when rows differ. */
  rope: tf.Tensor;
  /** Additive [batch, 1, 1, keyLen] mask for the cache's key buffers (padding and unfilled slots), or null. */
  mask: (keyLen: number, filled: number) => tf.Tensor | null;
  cache: KvCache;
  layer: number;
}

function rmsNorm2d(x: tf.Tensor2D, weight: tf.Tensor, eps: tf.Scalar): tf.Tensor2D {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), weight);
}

/** A linear layer on [n, in] rows; plain Linear layers skip the custom-gradient wrapper. */
export function applyRows(layer: LinearLayer, x: tf.Tensor2D): tf.Tensor2D {
  return layer instanceof Linear || layer instanceof ChunkedLinear ? layer.applyNoGrad(x) : (layer.apply(x) as tf.Tensor2D);
}

function project(x: tf.Tensor2D, weights: LinearLayer[]): tf.Tensor2D {
  return tf.concat(weights.map((l) => applyRows(l, x)), 1);
}

/**
 * The rotary embedding at one position as a [d, d] matrix R, so that x·R = x·cos + rotate_half(x)·sin
 * (HF's apply_rotary_pos_emb): each output sums the same two products, so the result is the same.
 */
function ropeMatrix(invFreq: Float32Array, position: number, d: number, out: Float32Array, offset: number): void {
  const half = d / 2;
  for (let i = 0; i < half; i++) {
    const angle = Math.fround(invFreq[i] * position);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    out[offset + i * d + i] = c;
    out[offset + (i + half) * d + i + half] = c;
    out[offset + (i + half) * d + i] = -s;
    out[offset + i * d + i + half] = s;
  }
}

/** Rotation matrices for one new token per batch row: [d, d] when every row is at the same position, else [batch, d, d]. */
export function decodeRopeMatrix(config: LlamaConfig, invFreq: Float32Array, positions: readonly number[]): tf.Tensor {
  const d = config.headDim;
  const same = positions.every((p) => p === positions[0]);
  const count = same ? 1 : positions.length;
  const values = new Float32Array(count * d * d);
  for (let b = 0; b < count; b++) ropeMatrix(invFreq, positions[b], d, values, b * d * d);
  return same ? tf.tensor2d(values, [d, d]) : tf.tensor3d(values, [count, d, d]);
}

/**
 * A decoder layer for one new token per row (hidden [batch, hidden]) with few kernel launches: one rotation
 * for q and k together, GQA by grouping query heads. Same math as decoderLayer.
 */
export function decodeLayerStep(hidden: tf.Tensor2D, w: DecodeLayerWeights, ctx: DecodeContext, eps: tf.Scalar, scale: tf.Scalar): tf.Tensor2D {
  const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim: d } = ctx.config;
  const batch = hidden.shape[0];
  const qkv = project(rmsNorm2d(hidden, w.inputLayernorm, eps), w.qkv);
  const [qk, v] = tf.split(qkv, [(heads + kvHeads) * d, kvHeads * d], 1);
  // q and k rotate in one matmul; v is left as it is.
  const rotated = ctx.rope.rank === 2 ? tf.matMul(tf.reshape(qk, [batch * (heads + kvHeads), d]), ctx.rope as tf.Tensor2D) : tf.matMul(tf.reshape(qk, [batch, heads + kvHeads, d]), ctx.rope as tf.Tensor3D);
  const [q, k] = tf.split(tf.reshape(rotated, [batch, heads + kvHeads, d]), [heads, kvHeads], 1);
  const cached = ctx.cache.appendInPlace(ctx.layer, tf.reshape(k, [batch, kvHeads, 1, d]), tf.reshape(v, [batch, kvHeads, 1, d]));
  const groups = heads / kvHeads;
  let scores: tf.Tensor = tf.mul(tf.matMul(tf.reshape(q, [batch, kvHeads, groups, d]), cached.key, false, true), scale);
  const mask = ctx.mask(cached.capacity, cached.length);
  if (mask) scores = tf.add(scores, mask);
  const context = tf.reshape(tf.matMul(tf.softmax(scores), cached.value), [batch, heads * d]);
  const attended = tf.add(hidden, applyRows(w.o, context as tf.Tensor2D)) as tf.Tensor2D;
  const gateUp = project(rmsNorm2d(attended, w.postAttentionLayernorm, eps), w.gateUp);
  const [gate, up] = tf.split(gateUp, 2, 1);
  const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
  return tf.add(attended, applyRows(w.down, act as tf.Tensor2D));
}
