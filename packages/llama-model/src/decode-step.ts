import * as tf from "@tensorflow/tfjs-core";
import { attention, hasLlamatsKernel, rmsNorm, rope, swiglu } from "@llamats/core";
import { buildAttentionMask } from "./attention-mask.js";
import type { LlamaConfig } from "./config.js";
import type { KvCache } from "./kv-cache.js";
import { Linear, isPlainLinear, type LinearLayer } from "./linear.js";
import { ChunkedLinear } from "./chunked-linear.js";
import { PackedLinear } from "./packed-linear.js";
import { computeInvFreq, ropeTables } from "./rope.js";
import { DECODE_STEP, syncDecodeStepKernels, type DecodeStepAttrs } from "./wasm-decode.js";

/** One layer's weights as the single-token decode step uses them. */
export interface DecodeLayerWeights {
  inputLayernorm: tf.Tensor;
  postAttentionLayernorm: tf.Tensor;
  /** q, k, v, each its own matmul (no fused copy of the weights: it would cost memory at load). */
  qkv: [LinearLayer, LinearLayer, LinearLayer];
  o: LinearLayer;
  gateUp: [LinearLayer, LinearLayer];
  down: LinearLayer;
}

export interface DecodeContext {
  config: LlamaConfig;
  /** Rotary tables at each row's position, [batch or 1, 1, 1, headDim]. */
  cos: tf.Tensor;
  sin: tf.Tensor;
  /** Additive [batch, 1, 1, keyLen] mask for the cache's key buffers (padding and unfilled slots), or null. */
  mask: (keyLen: number, filled: number) => tf.Tensor | null;
  cache: KvCache;
  layer: number;
}

/** The whole model's decode step: the new tokens' embeddings, the resolved layers and the head. */
export interface DecodeStepOptions {
  config: LlamaConfig;
  /** The new tokens' embeddings [batch, hidden]. */
  hidden: tf.Tensor2D;
  layers: DecodeLayerWeights[];
  norm: tf.Tensor;
  lmHead: LinearLayer;
  /** Each row's position. */
  positions: readonly number[];
  /** 1 for real tokens, 0 for padding, per cache position; null when nothing is padded. */
  attentionMask: readonly (readonly number[])[] | null;
  cache: KvCache;
}

/** A linear layer on [n, in] rows; plain and packed layers skip the gradient bookkeeping (int8: 8-bit activations). */
function applyRows(layer: LinearLayer, x: tf.Tensor2D): tf.Tensor2D {
  return layer instanceof Linear || layer instanceof ChunkedLinear || layer instanceof PackedLinear
    ? layer.applyNoGrad(x)
    : (layer.apply(x) as tf.Tensor2D);
}

/**
 * A decoder layer for one new token per row (hidden [batch, hidden]) from llamats ops: RMSNorm, RoPE, attention over
 * the cache (GQA without repeated keys), SwiGLU. Same math as decoderLayer. The projections stay separate tensors
 * (a concat and split would only copy: three dispatches a pair on webgpu).
 */
function decodeLayerStep(hidden: tf.Tensor2D, w: DecodeLayerWeights, ctx: DecodeContext): tf.Tensor2D {
  const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim: d, rmsNormEps: eps } = ctx.config;
  const batch = hidden.shape[0];
  const attnIn = rmsNorm(hidden, w.inputLayernorm, eps) as tf.Tensor2D;
  const [q, k, v] = w.qkv.map((layer, i) =>
    tf.reshape<tf.Rank.R4>(applyRows(layer, attnIn), [batch, i === 0 ? heads : kvHeads, 1, d]),
  );
  const cached = ctx.cache.appendInPlace(ctx.layer, rope(k, ctx.cos, ctx.sin), v);
  const context = attention(
    rope(q, ctx.cos, ctx.sin),
    cached.key,
    cached.value,
    ctx.mask(cached.capacity, cached.length) as tf.Tensor4D | null,
  );
  const attended = tf.add<tf.Tensor2D>(hidden, applyRows(w.o, tf.reshape(context, [batch, heads * d])));
  const mlpIn = rmsNorm(attended, w.postAttentionLayernorm, eps) as tf.Tensor2D;
  const [gate, up] = w.gateUp.map((layer) => applyRows(layer, mlpIn));
  return tf.add(attended, applyRows(w.down, swiglu(gate, up) as tf.Tensor2D));
}

/**
 * The fused kernel's inputs for a bias-free layer, plain (its weight) or int8-packed (codes and `.scales`), else null
 * (a wrapped layer, e.g. an unmerged adapter, or bf16/nf4 weights, which take the composed step).
 */
function fusedInputs(layer: LinearLayer, name: string): Record<string, tf.Tensor> | null {
  if (isPlainLinear(layer) && layer.bias === null) return { [name]: layer.weight };
  if (layer instanceof PackedLinear && layer.bias === null && layer.packed.format === "int8")
    return { [name]: layer.packed.words, [`${name}.scales`]: layer.packed.scales };
  return null;
}

/** The fused kernel's weight inputs (no cache yet), or null when some layer is not a plain bias-free linear. */
function fusedWeights(o: DecodeStepOptions): Record<string, tf.Tensor> | null {
  const lmHead = fusedInputs(o.lmHead, "lmHead");
  if (!lmHead) return null;
  const inputs: Record<string, tf.Tensor> = { norm: o.norm, ...lmHead };
  for (const [i, w] of o.layers.entries()) {
    const linears = { q: w.qkv[0], k: w.qkv[1], v: w.qkv[2], o: w.o, gate: w.gateUp[0], up: w.gateUp[1], down: w.down };
    for (const [name, layer] of Object.entries(linears)) {
      const weight = fusedInputs(layer, `${i}.${name}`);
      if (!weight) return null;
      Object.assign(inputs, weight);
    }
    inputs[`${i}.inputLayernorm`] = w.inputLayernorm;
    inputs[`${i}.postAttentionLayernorm`] = w.postAttentionLayernorm;
  }
  return inputs;
}

/** fusedWeights by the model's resolved layer list (kept until a layer is replaced), so not rebuilt every token. */
const fusedWeightsByLayers = new WeakMap<
  readonly DecodeLayerWeights[],
  { lmHead: LinearLayer; norm: tf.Tensor; weights: Record<string, tf.Tensor> | null }
>();

function cachedFusedWeights(o: DecodeStepOptions): Record<string, tf.Tensor> | null {
  const hit = fusedWeightsByLayers.get(o.layers);
  if (hit && hit.lmHead === o.lmHead && hit.norm === o.norm) return hit.weights;
  const weights = fusedWeights(o);
  fusedWeightsByLayers.set(o.layers, { lmHead: o.lmHead, norm: o.norm, weights });
  return weights;
}

/** The fused kernel: every layer's cache slot is claimed first (allocation stays outside the kernel), then one call. */
function fusedDecodeStep(o: DecodeStepOptions, weights: Record<string, tf.Tensor>): tf.Tensor2D {
  const { config, cache } = o;
  const batch = o.hidden.shape[0];
  const inputs: tf.NamedTensorMap = { ...weights, hidden: o.hidden };
  let slot = cache.length;
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const claimed = cache.claimSlot(i, batch, config.numKeyValueHeads, config.headDim);
    inputs[`${i}.keys`] = claimed.key;
    inputs[`${i}.values`] = claimed.value;
    slot = claimed.position;
  }
  const invFreq = computeInvFreq(config, Math.max(...o.positions) + 1);
  const attrs: DecodeStepAttrs = { config, positions: o.positions, invFreq, attentionMask: o.attentionMask, slot };
  return tf.engine().runKernel<tf.Tensor2D>(DECODE_STEP, inputs, attrs as unknown as tf.NamedAttrMap);
}

/** The composed step: decodeLayerStep per layer, then the final norm and the head. */
function composedDecodeStep(o: DecodeStepOptions): tf.Tensor2D {
  const { config, cache } = o;
  const batch = o.hidden.shape[0];
  // One mask per step for every layer: the cache's buffers have the same capacity in all layers.
  const masks = new Map<number, tf.Tensor | null>();
  const mask = (keyLen: number, filled: number): tf.Tensor | null => {
    if (!masks.has(keyLen))
      masks.set(
        keyLen,
        buildAttentionMask({ batch, queryLen: 1, pastLen: filled - 1, attentionMask: o.attentionMask, keyLen }),
      );
    return masks.get(keyLen)!;
  };
  const same = o.positions.every((p) => p === o.positions[0]);
  const { cos, sin } = ropeTables(config, same ? [[o.positions[0]]] : o.positions.map((p) => [p]));
  let hidden = o.hidden;
  for (const [layer, w] of o.layers.entries())
    hidden = decodeLayerStep(hidden, w, { config, cos, sin, mask, cache, layer });
  return applyRows(o.lmHead, rmsNorm(hidden, o.norm, config.rmsNormEps) as tf.Tensor2D);
}

/**
 * Logits [batch, vocab] for one new token per row, appending its keys and values to the cache. One fused kernel
 * where the active backend has one registered (DECODE_STEP) and every projection is a plain bias-free linear layer;
 * else the composed step from llamats ops. Call inside tf.tidy.
 */
export function decodeStep(o: DecodeStepOptions): tf.Tensor2D {
  syncDecodeStepKernels();
  const weights = hasLlamatsKernel(DECODE_STEP) ? cachedFusedWeights(o) : null;
  return weights ? fusedDecodeStep(o, weights) : composedDecodeStep(o);
}
