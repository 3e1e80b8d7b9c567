import * as tf from "@tensorflow/tfjs-core";
import { attention, rope } from "@llamats/core";
import type { LlamaConfig } from "./config.js";
import type { KvCache } from "./kv-cache.js";
import type { LinearLayer } from "./linear.js";

/** What attention needs besides the hidden states: rotary tables, mask and optionally a KV cache. */
export interface AttentionContext {
  config: LlamaConfig;
  cos: tf.Tensor;
  sin: tf.Tensor;
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
  return tf.transpose(tf.reshape(x, [batch, seq, heads, dim]), [0, 2, 1, 3]);
}

/** Causal self-attention: the attention op of @llamats/core (GQA without repeating keys, softmax in float32). */
export function selfAttention(x: tf.Tensor3D, proj: AttentionProjections, ctx: AttentionContext): tf.Tensor3D {
  return tf.tidy(() => {
    const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim: dim } = ctx.config;
    const [batch, seq] = x.shape;
    const q = rope(splitHeads(proj.q.apply(x), heads, dim), ctx.cos, ctx.sin);
    let k = rope(splitHeads(proj.k.apply(x), kvHeads, dim), ctx.cos, ctx.sin);
    let v = splitHeads(proj.v.apply(x), kvHeads, dim);
    if (ctx.cache) ({ key: k, value: v } = ctx.cache.kv.append(ctx.cache.layer, k, v));
    const context = attention(q, k, v, ctx.mask as tf.Tensor4D | null, { scale: 1 / Math.sqrt(dim) });
    const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch, seq, heads * dim]);
    return proj.o.apply(merged) as tf.Tensor3D;
  });
}
