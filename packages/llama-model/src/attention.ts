import * as tf from '@tensorflow/tfjs-core';
import { rope } from '@llamats/core';
import type { LlamaConfig } from './config.js';
import type { KvCache } from './kv-cache.js';
import type { LinearLayer } from './linear.js';

/** What attention needs besides the hidden states: rotary tables, mask and optionally a KV cache. */
export interface AttentionContext {
  config: LlamaConfig;
  cos: tf.Tensor;
  sin: tf.Tensor;
  /** Not read any more (the rope op rotates halves itself); kept so callers that build it still type-check. */
  rotateHalf?: tf.Tensor2D;
  /** Additive [batch, 1, query, key] or null when nothing is masked. */
  mask: tf.Tensor | null;
  cache?: { kv: KvCache; layer: number };
}

export interface AttentionProjections {
  q: LinearLayer;
  k: LinearLayer;
  v: LinearLayer;
  o: LinearLayer;
}

/** [batch, seq, heads·dim] → [batch, heads, seq, dim]. */
function splitHeads(x: tf.Tensor, heads: number, dim: number): tf.Tensor4D {
  const [batch, seq] = x.shape;
  return tf.transpose(tf.reshape(x, [batch!, seq!, heads, dim]), [0, 2, 1, 3]);
}

/** Causal self-attention with GQA: query heads are grouped per key/value head, so keys are never repeated. */
export function selfAttention(x: tf.Tensor3D, proj: AttentionProjections, ctx: AttentionContext): tf.Tensor3D {
  return tf.tidy(() => {
    const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim: dim } = ctx.config;
    const [batch, seq] = x.shape;
    let q = rope(splitHeads(proj.q.apply(x), heads, dim), ctx.cos, ctx.sin);
    let k = rope(splitHeads(proj.k.apply(x), kvHeads, dim), ctx.cos, ctx.sin);
    let v = splitHeads(proj.v.apply(x), kvHeads, dim);
    if (ctx.cache) ({ key: k, value: v } = ctx.cache.kv.append(ctx.cache.layer, k, v));
    const keyLen = k.shape[2];
    const groups = heads / kvHeads;
    q = tf.reshape(q, [batch, kvHeads, groups * seq, dim]);
    let scores: tf.Tensor = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dim));
    if (ctx.mask) {
      scores = tf.add(tf.reshape(scores, [batch, heads, seq, keyLen]), ctx.mask);
      scores = tf.reshape(scores, [batch, kvHeads, groups * seq, keyLen]);
    }
    const context = tf.matMul(tf.softmax(scores), v);
    const merged = tf.reshape(tf.transpose(tf.reshape(context, [batch, heads, seq, dim]), [0, 2, 1, 3]), [batch, seq, heads * dim]);
    return proj.o.apply(merged) as tf.Tensor3D;
  });
}
