import * as tf from '@tensorflow/tfjs-core';
import type { LlamaConfig } from './config.js';
import type { KvCache } from './kv-cache.js';
import { Linear, type LinearLayer } from './linear.js';
import { FusedWeight } from './fused-weight.js';

/** One layer's weights as the single-token decode step uses them. */
export interface DecodeLayerWeights {
  inputLayernorm: tf.Tensor;
  postAttentionLayernorm: tf.Tensor;
  /** Fused q,k,v when all three are plain Linear layers, else the three layers (e.g. wrapped by PEFT). */
  qkv: FusedWeight | [LinearLayer, LinearLayer, LinearLayer];
  o: LinearLayer;
  gateUp: FusedWeight | [LinearLayer, LinearLayer];
  down: LinearLayer;
}

export interface DecodeContext {
  config: LlamaConfig;
  /** [batch, qHeads + 2·kvHeads, headDim]: rotary cos for q and k rows, 1 for v rows. */
  cos: tf.Tensor3D;
  /** Same layout; 0 for v rows, so v passes through the rotation unchanged. */
  sin: tf.Tensor3D;
  rotateHalf: tf.Tensor2D;
  /** Additive [batch, 1, 1, keyLen] padding mask, or null. */
  mask: tf.Tensor | null;
  cache: KvCache;
  layer: number;
}

function rmsNorm2d(x: tf.Tensor2D, weight: tf.Tensor, eps: tf.Scalar): tf.Tensor2D {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), weight);
}

/** A linear layer on [n, in] rows; plain Linear layers skip the custom-gradient wrapper. */
export function applyRows(layer: LinearLayer, x: tf.Tensor2D): tf.Tensor2D {
  return layer instanceof Linear ? layer.applyNoGrad(x) : (layer.apply(x) as tf.Tensor2D);
}

function project(x: tf.Tensor2D, weights: FusedWeight | LinearLayer[]): tf.Tensor2D {
  if (weights instanceof FusedWeight) return weights.apply(x);
  return tf.concat(weights.map((l) => applyRows(l, x)), 1);
}

/** cos/sin rows for one new token per batch row, laid out to rotate q and k heads and leave v heads as they are. */
export function decodeRopeTables(config: LlamaConfig, invFreq: Float32Array, positions: readonly number[]): { cos: tf.Tensor3D; sin: tf.Tensor3D } {
  const { numAttentionHeads: q, numKeyValueHeads: kv, headDim: d } = config;
  const heads = q + 2 * kv;
  const half = d / 2;
  const cos = new Float32Array(positions.length * heads * d);
  const sin = new Float32Array(positions.length * heads * d);
  positions.forEach((p, b) => {
    const row = new Float32Array(d);
    const rowSin = new Float32Array(d);
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(invFreq[i] * p);
      row[i] = row[i + half] = Math.cos(angle);
      rowSin[i] = rowSin[i + half] = Math.sin(angle);
    }
    for (let h = 0; h < heads; h++) {
      const offset = (b * heads + h) * d;
      if (h < q + kv) {
        cos.set(row, offset);
        sin.set(rowSin, offset);
      } else cos.fill(1, offset, offset + d);
    }
  });
  const shape: [number, number, number] = [positions.length, heads, d];
  return { cos: tf.tensor3d(cos, shape), sin: tf.tensor3d(sin, shape) };
}

/**
 * A decoder layer for one new token per row (hidden [batch, hidden]) with few kernel launches: fused
 * projections, one rotation for q and k together, GQA by grouping query heads. Same math as decoderLayer.
 */
export function decodeLayerStep(hidden: tf.Tensor2D, w: DecodeLayerWeights, ctx: DecodeContext, eps: tf.Scalar, scale: tf.Scalar): tf.Tensor2D {
  const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim: d, hiddenSize } = ctx.config;
  const batch = hidden.shape[0];
  const all = heads + 2 * kvHeads;
  const qkv = tf.reshape(project(rmsNorm2d(hidden, w.inputLayernorm, eps), w.qkv), [batch * all, d]);
  const rotated = tf.add(tf.mul(qkv, tf.reshape(ctx.cos, [batch * all, d])), tf.mul(tf.matMul(qkv, ctx.rotateHalf), tf.reshape(ctx.sin, [batch * all, d])));
  const [q, k, v] = tf.split(tf.reshape(rotated, [batch, all, d]), [heads, kvHeads, kvHeads], 1);
  const { key, value } = ctx.cache.append(ctx.layer, tf.reshape(k, [batch, kvHeads, 1, d]), tf.reshape(v, [batch, kvHeads, 1, d]));
  const groups = heads / kvHeads;
  let scores: tf.Tensor = tf.mul(tf.matMul(tf.reshape(q, [batch, kvHeads, groups, d]), key, false, true), scale);
  if (ctx.mask) scores = tf.add(scores, ctx.mask);
  const context = tf.reshape(tf.matMul(tf.softmax(scores), value), [batch, heads * d]);
  const attended = tf.add(hidden, applyRows(w.o, context as tf.Tensor2D)) as tf.Tensor2D;
  const gateUp = project(rmsNorm2d(attended, w.postAttentionLayernorm, eps), w.gateUp);
  const [gate, up] = tf.split(gateUp, 2, 1);
  const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
  return tf.add(attended, applyRows(w.down, act as tf.Tensor2D));
}
