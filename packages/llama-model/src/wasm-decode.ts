import * as tf from '@tensorflow/tfjs-core';
import { WasmKernels, wasmKernelsInstalled } from '@llamats/core';
import type { LlamaConfig } from './config.js';
import { MASKED } from './attention-mask.js';
import type { KvCache } from './kv-cache.js';

/** One layer's weights for the fused step, all in HF layout [out, in] (read row by row). */
export interface WasmDecodeLayer {
  inputLayernorm: tf.Tensor;
  postAttentionLayernorm: tf.Tensor;
  q: tf.Tensor;
  k: tf.Tensor;
  v: tf.Tensor;
  o: tf.Tensor;
  gate: tf.Tensor;
  up: tf.Tensor;
  down: tf.Tensor;
}

export interface WasmDecodeWeights {
  layers: WasmDecodeLayer[];
  norm: tf.Tensor;
  lmHead: tf.Tensor;
}

export interface WasmDecodeStepOptions {
  weights: WasmDecodeWeights;
  /** The new tokens' embeddings [batch, hidden]. */
  hidden: tf.Tensor2D;
  invFreq: Float32Array;
  /** Each row's position. */
  positions: readonly number[];
  attentionMask: readonly (readonly number[])[] | null;
  cache: KvCache;
}

/** Scratch in the wasm heap for one batch size, grown on demand. */
interface Scratch {
  batch: number;
  x: number;
  xn: number;
  qkv: number;
  ctx: number;
  gateUp: number;
  act: number;
  cos: number;
  sin: number;
  mask: number;
  maskFloats: number;
}

/** True when the fused step can run here: the wasm backend with llamats' kernels installed. */
export function wasmDecodeAvailable(): boolean {
  return tf.getBackend() === 'wasm' && wasmKernelsInstalled() && WasmKernels.get() !== null;
}

/**
 * The single-token decode step as a handful of llamats kernel calls per layer on the wasm heap (RMSNorm,
 * fused q·k·v, RoPE, cached attention, o, SwiGLU, down) instead of ~35 tfjs ops: same math as decodeLayerStep.
 */
export class WasmDecoder {
  private scratch: Scratch | null = null;

  constructor(
    private readonly config: LlamaConfig,
    private readonly kernels: WasmKernels,
  ) {}

  private ensureScratch(batch: number, capacity: number): Scratch {
    const c = this.config;
    const s = this.scratch;
    if (s && s.batch === batch && s.maskFloats >= batch * capacity) return s;
    this.free();
    const qkvWidth = (c.numAttentionHeads + 2 * c.numKeyValueHeads) * c.headDim;
    const floats = (n: number) => this.kernels.malloc(Math.max(n, 1) * 4);
    const maskFloats = batch * Math.max(capacity, 256);
    this.scratch = {
      batch,
      x: floats(batch * c.hiddenSize),
      xn: floats(batch * c.hiddenSize),
      qkv: floats(batch * qkvWidth),
      ctx: floats(batch * c.numAttentionHeads * c.headDim),
      gateUp: floats(batch * 2 * c.intermediateSize),
      act: floats(batch * c.intermediateSize),
      cos: floats(batch * c.headDim),
      sin: floats(batch * c.headDim),
      mask: floats(maskFloats),
      maskFloats,
    };
    return this.scratch;
  }

  /** Logits [batch, vocab] for one new token per row; appends its keys and values to `cache`. */
  step(options: WasmDecodeStepOptions): tf.Tensor2D {
    // Jobs come many at a time and again at the next token: keep the threads spinning between them.
    this.kernels.pace = 'decode';
    try {
      return this.run(options);
    } finally {
      this.kernels.pace = 'default';
    }
  }

  private run(options: WasmDecodeStepOptions): tf.Tensor2D {
    const c = this.config;
    const k = this.kernels;
    const { weights, cache } = options;
    const batch = options.hidden.shape[0];
    const heads = c.numAttentionHeads;
    const kvHeads = c.numKeyValueHeads;
    const d = c.headDim;
    const hiddenSize = c.hiddenSize;
    const qkvWidth = (heads + 2 * kvHeads) * d;
    const ffn = c.intermediateSize;
    const slots = c.numHiddenLayers === 0 ? null : cache.claimSlot(0, batch, kvHeads, d);
    const capacity = slots?.capacity ?? 1;
    const position = slots?.position ?? 0;
    const length = position + 1;
    const s = this.ensureScratch(batch, capacity);
    const logits = tf.zeros([batch, c.vocabSize]) as tf.Tensor2D;
    let heap = this.kernels.heapF32();
    const from = k.offsetOf(options.hidden) / 4;
    heap.copyWithin(s.x / 4, from, from + batch * hiddenSize);
    // cos/sin of each row's position in HF's duplicated-halves layout.
    const half = d / 2;
    options.positions.forEach((p, b) => {
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(options.invFreq[i] * p);
        const cos = Math.cos(angle);
        const sin = Math.sin(angle);
        heap[s.cos / 4 + b * d + i] = heap[s.cos / 4 + b * d + i + half] = cos;
        heap[s.sin / 4 + b * d + i] = heap[s.sin / 4 + b * d + i + half] = sin;
      }
    });
    let mask = 0;
    if (options.attentionMask?.some((row) => row.slice(0, length).includes(0))) {
      mask = s.mask;
      for (let b = 0; b < batch; b++) {
        const row = options.attentionMask[b];
        for (let t = 0; t < length; t++) heap[mask / 4 + b * capacity + t] = row[t] === 0 ? MASKED : 0;
      }
    }
    const scale = 1 / Math.sqrt(d);
    const eps = c.rmsNormEps;
    const off = (t: tf.Tensor) => k.offsetOf(t);
    // x [batch, kk] · Wᵀ into `n` columns of rows `ldc` floats apart (q, k, v side by side in one row).
    const linear = (a: number, w: tf.Tensor, out: number, n: number, kk: number, accumulate: boolean, ldc = n) =>
      k.gemm({ a, b: off(w), c: out, m: batch, n, k: kk, transposeA: false, transposeB: true, batch: 1, strideA: 0, strideB: 0, strideC: 0, accumulate, ldc });
    for (let layer = 0; layer < c.numHiddenLayers; layer++) {
      const w = weights.layers[layer];
      const slot = layer === 0 ? slots! : cache.claimSlot(layer, batch, kvHeads, d);
      k.rmsNorm(s.x, off(w.inputLayernorm), s.xn, batch, hiddenSize, eps);
      linear(s.xn, w.q, s.qkv, heads * d, hiddenSize, false, qkvWidth);
      linear(s.xn, w.k, s.qkv + heads * d * 4, kvHeads * d, hiddenSize, false, qkvWidth);
      linear(s.xn, w.v, s.qkv + (heads + kvHeads) * d * 4, kvHeads * d, hiddenSize, false, qkvWidth);
      k.rope(s.qkv, s.cos, s.sin, batch, qkvWidth, heads + kvHeads, d);
      heap = this.kernels.heapF32();
      const keys = off(slot.key) / 4;
      const values = off(slot.value) / 4;
      for (let b = 0; b < batch; b++) {
        for (let h = 0; h < kvHeads; h++) {
          const at = ((b * kvHeads + h) * capacity + position) * d;
          const src = s.qkv / 4 + b * qkvWidth + (heads + h) * d;
          heap.copyWithin(keys + at, src, src + d);
          heap.copyWithin(values + at, src + kvHeads * d, src + kvHeads * d + d);
        }
      }
      k.attend({ q: s.qkv, qStride: qkvWidth, keys: keys * 4, values: values * 4, out: s.ctx, mask, batch, heads, kvHeads, d, capacity, length, scale });
      linear(s.ctx, w.o, s.x, hiddenSize, heads * d, true);
      k.rmsNorm(s.x, off(w.postAttentionLayernorm), s.xn, batch, hiddenSize, eps);
      linear(s.xn, w.gate, s.gateUp, ffn, hiddenSize, false, 2 * ffn);
      linear(s.xn, w.up, s.gateUp + ffn * 4, ffn, hiddenSize, false, 2 * ffn);
      k.siluMul(s.gateUp, s.act, batch, ffn);
      linear(s.act, w.down, s.x, hiddenSize, ffn, true);
    }
    k.rmsNorm(s.x, off(weights.norm), s.xn, batch, hiddenSize, eps);
    linear(s.xn, weights.lmHead, off(logits), c.vocabSize, hiddenSize, false);
    return logits;
  }

  /** Frees the scratch buffers (the model calls it on dispose). */
  free(): void {
    const s = this.scratch;
    if (!s) return;
    for (const ptr of [s.x, s.xn, s.qkv, s.ctx, s.gateUp, s.act, s.cos, s.sin, s.mask]) this.kernels.free(ptr);
    this.scratch = null;
  }
}
