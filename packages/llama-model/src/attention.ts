import * as tf from "@tensorflow/tfjs-core";
import { attention, rope } from "@llamats/core";
import type { LlamaConfig } from "./config.js";
import type { KvCache } from "./kv-cache.js";
import { applyPlus, type LinearLayer } from "./linear.js";

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

/** [batch, seq, heads·dim] → [batch, seq, heads, dim]: the attention ops' "bshd" layout, a reshape (no copy). */
function splitHeads(x: tf.Tensor, heads: number, dim: number): tf.Tensor4D {
  const [batch, seq] = x.shape;
  return tf.reshape<tf.Rank.R4>(x, [batch, seq, heads, dim]);
}

/** bshd ↔ bhsd: the KV cache keeps [batch, kvHeads, length, dim] (the decode step's and the fused wasm step's layout). */
function swapHeads(x: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(x, [0, 2, 1, 3]);
}

/**
 * Causal self-attention: the attention op of @llamats/core (GQA without repeating keys, softmax in float32). RoPE
 * and attention run on the projections' own layout ("bshd"), so a training or evaluation forward and its backward
 * transpose nothing. With a KV cache, k and v are transposed into it; a prefill (no past) still attends over its own
 * bshd keys, a continuation over the cache's history (q and the output transposed). A residual is added in o_proj's
 * kernel where the layer can.
 */
export function selfAttention(
  x: tf.Tensor3D,
  proj: AttentionProjections,
  ctx: AttentionContext,
  residual?: tf.Tensor3D,
): tf.Tensor3D {
  return tf.tidy(() => {
    const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim: dim } = ctx.config;
    const [batch, seq] = x.shape;
    const bshd = { layout: "bshd" } as const;
    // The rotary tables are constants: rope's backward keeps them, not q and k.
    const rotary = { layout: "bshd", constantTables: true } as const;
    const scale = 1 / Math.sqrt(dim);
    const mask = ctx.mask as tf.Tensor4D | null;
    const q = rope(splitHeads(proj.q.apply(x), heads, dim), ctx.cos, ctx.sin, rotary);
    const k = rope(splitHeads(proj.k.apply(x), kvHeads, dim), ctx.cos, ctx.sin, rotary);
    const v = splitHeads(proj.v.apply(x), kvHeads, dim);
    let context: tf.Tensor4D;
    if (!ctx.cache) context = attention(q, k, v, mask, { scale, ...bshd });
    else {
      const history = ctx.cache.kv.append(ctx.cache.layer, swapHeads(k), swapHeads(v));
      context =
        history.key.shape[2] === seq
          ? attention(q, k, v, mask, { scale, ...bshd })
          : swapHeads(attention(swapHeads(q), history.key, history.value, mask, { scale }));
    }
    const merged = tf.reshape(context, [batch, seq, heads * dim]);
    return (residual ? applyPlus(proj.o, merged, residual) : proj.o.apply(merged)) as tf.Tensor3D;
  });
}
