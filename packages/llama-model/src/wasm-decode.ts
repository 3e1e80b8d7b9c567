import * as tf from "@tensorflow/tfjs-core";
import { WasmKernels, wasmKernelsInstalled } from "@llamats/core";
import type { LlamaConfig } from "./config.js";
import { MASKED } from "./attention-mask.js";
import { writeRotaryRow } from "./rope.js";

/**
 * The whole model's single-token decode step as one kernel: hidden [batch, hidden] → logits [batch, vocab], writing
 * each layer's new keys and values into the cache buffers given as inputs (in place). Inputs: `hidden`, `norm`,
 * `lmHead` and per layer i `${i}.${name}` for every DECODE_LAYER_INPUTS name; a projection (or the head) held as int8
 * (Q8_0) gives its codes under that name and its scales under `<name>.scales`. attrs: DecodeStepAttrs.
 */
export const DECODE_STEP = "LlamatsDecodeStep";

/** A layer's inputs of the fused step: norms, weights in HF layout [out, in], and its cache buffers [batch, kvHeads, capacity, d]. */
const DECODE_LAYER_INPUTS = [
  "inputLayernorm",
  "postAttentionLayernorm",
  "q",
  "k",
  "v",
  "o",
  "gate",
  "up",
  "down",
  "keys",
  "values",
] as const;

export interface DecodeStepAttrs {
  config: LlamaConfig;
  /** Each row's rotary position. */
  positions: readonly number[];
  invFreq: Float32Array;
  /** 1 for real tokens, 0 for padding, per cache position; null when nothing is padded. */
  attentionMask: readonly (readonly number[])[] | null;
  /** The cache position this step writes (the same in every layer). */
  slot: number;
}

type LayerKeys = Record<(typeof DECODE_LAYER_INPUTS)[number], string>;
/** Layer i's input names (`${i}.q`, …), made once per layer index rather than every token. */
const layerKeyCache: LayerKeys[] = [];
function layerKeys(i: number): LayerKeys {
  return (layerKeyCache[i] ??= Object.fromEntries(
    DECODE_LAYER_INPUTS.map((name) => [name, `${i}.${name}`]),
  ) as LayerKeys);
}
/** The kernel's inputs by name (see DECODE_STEP). */
type StepInfos = { hidden: tf.TensorInfo; norm: tf.TensorInfo; lmHead: tf.TensorInfo } & Partial<
  Record<string, tf.TensorInfo>
>;

/** Scratch in the wasm heap, grown on demand and shared by every model on this backend. */
interface Scratch {
  /** Floats each buffer holds. */
  sizes: number[];
  ptrs: number[];
}

/** The parts of tfjs-backend-wasm's backend object the kernel uses. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/**
 * The single-token decode step as a handful of llamats kernel calls per layer on the wasm heap (RMSNorm,
 * fused q·k·v, RoPE, cached attention, o, SwiGLU, down) instead of ~35 tfjs ops: same math as decodeLayerStep.
 */
export class WasmDecoder {
  private scratch: Scratch | null = null;

  constructor(private readonly kernels: WasmKernels) {}

  /** Buffers x, xn, qkv, ctx, gateUp, act, cos, sin, mask (byte offsets) with room for this step. */
  private buffers(c: LlamaConfig, batch: number, capacity: number): number[] {
    const qkvWidth = (c.numAttentionHeads + 2 * c.numKeyValueHeads) * c.headDim;
    const need = [
      c.hiddenSize,
      c.hiddenSize,
      qkvWidth,
      c.numAttentionHeads * c.headDim,
      2 * c.intermediateSize,
      c.intermediateSize,
      c.headDim,
      c.headDim,
      Math.max(capacity, 256),
    ].map((n) => Math.max(1, batch * n));
    const s = this.scratch;
    if (s && need.every((n, i) => n <= s.sizes[i])) return s.ptrs;
    this.free();
    this.scratch = { sizes: need, ptrs: need.map((n) => this.kernels.malloc(n * 4)) };
    return this.scratch.ptrs;
  }

  /** Writes logits [batch, vocab] for one new token per row; puts its keys and values in the cache at `slot`. */
  step(inputs: StepInfos, attrs: DecodeStepAttrs, logits: tf.TensorInfo): void {
    // Jobs come many at a time and again at the next token: keep the threads spinning between them.
    this.kernels.pace = "decode";
    try {
      this.run(inputs, attrs, logits);
    } finally {
      this.kernels.pace = "default";
    }
  }

  private run(inputs: StepInfos, attrs: DecodeStepAttrs, logits: tf.TensorInfo): void {
    const c = attrs.config;
    const k = this.kernels;
    const hidden = inputs.hidden;
    const batch = hidden.shape[0];
    const heads = c.numAttentionHeads;
    const kvHeads = c.numKeyValueHeads;
    const d = c.headDim;
    const hiddenSize = c.hiddenSize;
    const qkvWidth = (heads + 2 * kvHeads) * d;
    const ffn = c.intermediateSize;
    const capacity = c.numHiddenLayers === 0 ? 1 : inputs[layerKeys(0).keys]!.shape[2];
    const position = attrs.slot;
    const length = position + 1;
    const [x, xn, qkv, ctx, gateUp, act, cosAt, sinAt, maskAt] = this.buffers(c, batch, capacity);
    const heap = this.kernels.heapF32();
    heap.copyWithin(x / 4, k.offsetOf(hidden) / 4, k.offsetOf(hidden) / 4 + batch * hiddenSize);
    // cos/sin of each row's position in HF's duplicated-halves layout.
    attrs.positions.forEach((p, b) => {
      const [cos, sin] = [cosAt, sinAt].map((at) => heap.subarray(at / 4 + b * d, at / 4 + (b + 1) * d));
      writeRotaryRow(attrs.invFreq, p, cos, sin);
    });
    let mask = 0;
    if (attrs.attentionMask?.some((row) => row.slice(0, length).includes(0))) {
      mask = maskAt;
      for (let b = 0; b < batch; b++) {
        const row = attrs.attentionMask[b];
        for (let t = 0; t < length; t++) heap[mask / 4 + b * capacity + t] = row[t] === 0 ? MASKED : 0;
      }
    }
    const scale = 1 / Math.sqrt(d);
    const eps = c.rmsNormEps;
    const off = (t: tf.TensorInfo) => k.offsetOf(t);
    // x [batch, kk] · Wᵀ (the input named `key`) into `n` columns of rows `ldc` floats apart (q, k, v side by side
    // in one row). An int8 (Q8_0) projection comes as its codes under `key` and its scales under `<key>.scales`.
    const info = (key: string): tf.TensorInfo => inputs[key]!;
    const linear = (a: number, key: string, out: number, n: number, kk: number, accumulate: boolean, ldc = n) => {
      linears(a, kk, [{ key, out, n, ldc, accumulate }]);
    };
    // Projections of the same input: int8 ones in one q8MatMuls (x quantized once, one meeting of the threads).
    const linears = (
      a: number,
      kk: number,
      outs: { key: string; out: number; n: number; ldc: number; accumulate: boolean }[],
    ) => {
      const packed = outs.filter((o) => inputs[`${o.key}.scales`]);
      if (packed.length > 0) {
        k.q8MatMuls({
          x: a,
          m: batch,
          k: kk,
          outputs: packed.map((o) => ({
            words: off(info(o.key)),
            scales: off(info(`${o.key}.scales`)),
            y: o.out,
            n: o.n,
            ldc: o.ldc,
            accumulate: o.accumulate,
          })),
        });
      }
      for (const o of outs) if (!packed.includes(o)) dense(a, info(o.key), o.out, o.n, kk, o.accumulate, o.ldc);
    };
    const dense = (
      a: number,
      w: tf.TensorInfo,
      out: number,
      n: number,
      kk: number,
      accumulate: boolean,
      ldc: number,
    ) => {
      k.gemm({
        a,
        b: off(w),
        c: out,
        m: batch,
        n,
        k: kk,
        transposeA: false,
        transposeB: true,
        batch: 1,
        strideA: 0,
        strideB: 0,
        strideC: 0,
        accumulate,
        ldc,
      });
    };
    for (let i = 0; i < c.numHiddenLayers; i++) {
      const w = layerKeys(i);
      k.rmsNorm(x, off(info(w.inputLayernorm)), xn, batch, hiddenSize, eps);
      linears(xn, hiddenSize, [
        { key: w.q, out: qkv, n: heads * d, ldc: qkvWidth, accumulate: false },
        { key: w.k, out: qkv + heads * d * 4, n: kvHeads * d, ldc: qkvWidth, accumulate: false },
        { key: w.v, out: qkv + (heads + kvHeads) * d * 4, n: kvHeads * d, ldc: qkvWidth, accumulate: false },
      ]);
      k.rope(qkv, cosAt, sinAt, batch, qkvWidth, heads + kvHeads, d);
      const keys = off(info(w.keys)) / 4;
      const values = off(info(w.values)) / 4;
      // A fresh view: the kernels' scratch allocations may have grown (and so replaced) the heap's buffer.
      const now = this.kernels.heapF32();
      for (let b = 0; b < batch; b++) {
        for (let h = 0; h < kvHeads; h++) {
          const at = ((b * kvHeads + h) * capacity + position) * d;
          const src = qkv / 4 + b * qkvWidth + (heads + h) * d;
          now.copyWithin(keys + at, src, src + d);
          now.copyWithin(values + at, src + kvHeads * d, src + kvHeads * d + d);
        }
      }
      k.attend({
        q: qkv,
        qStride: qkvWidth,
        keys: keys * 4,
        values: values * 4,
        out: ctx,
        mask,
        batch,
        heads,
        kvHeads,
        d,
        capacity,
        length,
        scale,
      });
      linear(ctx, w.o, x, hiddenSize, heads * d, true);
      k.rmsNorm(x, off(info(w.postAttentionLayernorm)), xn, batch, hiddenSize, eps);
      linears(xn, hiddenSize, [
        { key: w.gate, out: gateUp, n: ffn, ldc: 2 * ffn, accumulate: false },
        { key: w.up, out: gateUp + ffn * 4, n: ffn, ldc: 2 * ffn, accumulate: false },
      ]);
      k.siluMul(gateUp, act, batch, ffn);
      linear(act, w.down, x, hiddenSize, ffn, true);
    }
    k.rmsNorm(x, off(inputs.norm), xn, batch, hiddenSize, eps);
    linear(xn, "lmHead", off(logits), c.vocabSize, hiddenSize, false);
  }

  /** Frees the scratch buffers. */
  free(): void {
    for (const ptr of this.scratch?.ptrs ?? []) this.kernels.free(ptr);
    this.scratch = null;
  }
}

/** One decoder per backend: its scratch is sized by the largest step seen (a few rows of activations). */
const decoders = new WeakMap<WasmKernels, WasmDecoder>();

/** The kernel on tfjs-backend-wasm: the output is allocated before the step takes its view of the heap. */
function wasmDecodeStep(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const attrs = args.attrs as unknown as DecodeStepAttrs;
  const inputs = args.inputs as StepInfos;
  const logits = (args.backend as WasmBackendLike).makeOutput(
    [inputs.hidden.shape[0], attrs.config.vocabSize],
    "float32",
  );
  const kernels = WasmKernels.get()!;
  let decoder = decoders.get(kernels);
  if (!decoder) decoders.set(kernels, (decoder = new WasmDecoder(kernels)));
  decoder.step(inputs, attrs, logits);
  return logits;
}

/**
 * Registers the fused step for wasm while llamats' wasm kernels are installed, and withdraws it while they are not
 * (LLAMATS_WASM_KERNELS=0 runs tfjs's own kernels, for comparison, so the composed step runs then). Cheap: the
 * decode-step op calls it every step.
 */
export function syncDecodeStepKernels(): void {
  const wanted = wasmKernelsInstalled();
  const registered = tf.getKernel(DECODE_STEP, "wasm") != null;
  if (wanted && !registered)
    tf.registerKernel({
      kernelName: DECODE_STEP,
      backendName: "wasm",
      kernelFunc: wasmDecodeStep,
    });
  else if (!wanted && registered) tf.unregisterKernel(DECODE_STEP, "wasm");
}
