import * as tf from "@tensorflow/tfjs-core";
import { LlamatsError } from "../errors.js";
import { NF4_CODE } from "../quantize/nf4.js";
import { DECODE_SPINS, KernelThreads, SPINS } from "./kernel-threads.js";
import { setFlagsFromString } from "node:v8";
import {
  KERNELS_FMA_WASM_BASE64,
  KERNELS_SHARED_FMA_WASM_BASE64,
  KERNELS_SHARED_WASM_BASE64,
  KERNELS_WASM_BASE64,
} from "./kernels-binary.js";

/** The parts of tfjs-backend-wasm's backend object the kernels use. */
interface WasmBackendLike {
  wasm: {
    wasmMemory?: WebAssembly.Memory;
    asm?: { memory?: WebAssembly.Memory };
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    HEAPU8: Uint8Array;
    tfjs?: { getThreadsCount?: () => number };
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

type KernelName =
  | "gemm"
  | "rms_norm"
  | "rms_norm_grad_x"
  | "rms_scales"
  | "rms_norm_grad_w"
  | "rope"
  | "rope_rotate"
  | "attend"
  | "silu_mul"
  | "swiglu_grad"
  | "exp_n"
  | "cross_entropy"
  | "packed_matmul"
  | "quantize_q8_rows"
  | "q8_dot_rows_many"
  | "noop";
type Exports = Record<KernelName, (...args: number[]) => void>;

/** Floats of packing scratch per thread: one K block × 8 columns (matches KC in the C source). */
const PANEL_FLOATS = 384 * 8;
/** Below this many multiply-adds a matmul runs on one thread: handing out work costs more. */
const MIN_THREADED_MACS = 1 << 16;

/**
 * Compiles the kernels with fused multiply-adds where the engine runs relaxed SIMD (Node 22+ by default; Node 20's
 * V8 behind a flag, which we turn on, since it only adds instructions), else without. LLAMATS_WASM_FMA=0 opts out.
 */
function compileKernels(shared: boolean): { module: WebAssembly.Module; fma: boolean } {
  const plain = () =>
    new WebAssembly.Module(Buffer.from(shared ? KERNELS_SHARED_WASM_BASE64 : KERNELS_WASM_BASE64, "base64"));
  if (process.env.LLAMATS_WASM_FMA === "0") return { module: plain(), fma: false };
  const fmaBytes = Buffer.from(shared ? KERNELS_SHARED_FMA_WASM_BASE64 : KERNELS_FMA_WASM_BASE64, "base64");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return { module: new WebAssembly.Module(fmaBytes), fma: true };
    } catch {
      if (attempt === 0) setFlagsFromString("--experimental-wasm-relaxed-simd");
    }
  }
  return { module: plain(), fma: false };
}

/** One Q8_0 matmul of q8MatMuls: its weight's codes and scales and its output (byte offsets in the heap). */
export interface Q8Output {
  words: number;
  scales: number;
  y: number;
  n: number;
  /** Row stride of y in floats (default n). */
  ldc?: number;
  /** Add into y. */
  accumulate?: boolean;
}

/** One thread's share of a batched matmul: batches, rows and columns [from, to). */
export type GemmShare = [b0: number, b1: number, m0: number, m1: number, j0: number, j1: number];

export interface GemmArgs {
  /** Byte offsets in the wasm heap. */
  a: number;
  b: number;
  c: number;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
  batch: number;
  /** Batch strides in floats (0 broadcasts one matrix to every batch). */
  strideA: number;
  strideB: number;
  strideC: number;
  /** Add into c instead of overwriting it. */
  accumulate?: boolean;
  /** Row stride of c in floats (default n): write into columns of a wider matrix. */
  ldc?: number;
}

function even(total: number, parts: number, align: number): number[] {
  const units = Math.ceil(total / align);
  const cuts = [0];
  for (let p = 1; p <= parts; p++) cuts.push(Math.min(total, Math.round((units * p) / parts) * align));
  return cuts;
}

/** Splits a matmul over `threads`: along batches when there are enough, else along the longer of rows and columns. */
export function splitGemm(batch: number, m: number, n: number, k: number, threads: number): GemmShare[] {
  const whole: GemmShare = [0, batch, 0, m, 0, n];
  if (threads <= 1 || batch * m * n * k < MIN_THREADED_MACS) return [whole];
  if (batch >= threads) {
    const cuts = even(batch, threads, 1);
    return cuts
      .slice(1)
      .map((to, t) => [cuts[t], to, 0, m, 0, n] as GemmShare)
      .filter((s) => s[1] > s[0]);
  }
  const shares: GemmShare[] = [];
  for (let b = 0; b < batch; b++) {
    const per = Math.max(1, Math.floor(threads / batch));
    if (m >= 16 && m >= n) {
      const cuts = even(m, per, 4);
      cuts.slice(1).forEach((to, t) => to > cuts[t] && shares.push([b, b + 1, cuts[t], to, 0, n]));
    } else {
      const cuts = even(n, per, m < 4 ? 16 : 8);
      cuts.slice(1).forEach((to, t) => to > cuts[t] && shares.push([b, b + 1, 0, m, cuts[t], to]));
    }
  }
  return shares.length > threads ? [whole] : shares;
}

/**
 * llamats' WebAssembly SIMD kernels on tfjs-backend-wasm's own heap (see kernels/llamats-kernels.c): tensors
 * are passed as byte offsets, so nothing is copied. Under the threaded build they also run on worker threads
 * that share the heap. Get one with `WasmKernels.get()`; null when the active backend is not wasm.
 */
export class WasmKernels {
  private static readonly byBackend = new WeakMap<object, WasmKernels>();
  readonly threads: number;
  /** Whether the kernels use fused multiply-adds (relaxed SIMD). */
  readonly fma: boolean;
  private readonly exports: Exports;
  private readonly pool: KernelThreads | null;
  private readonly panels: number[];
  private scores: { ptr: number; floats: number } | null = null;
  private nf4Table = 0;
  /**
   * 'decode' while a caller hands out many short jobs in a row (token-by-token generation): threads then spin
   * longer for the next job instead of sleeping. Set it back to 'default' after.
   */
  pace: "default" | "decode" = "default";

  private constructor(private readonly backend: WasmBackendLike) {
    const shared = backend.wasm.wasmMemory;
    const memory = shared ?? backend.wasm.asm?.memory;
    if (!memory)
      throw new LlamatsError(
        "This tfjs-backend-wasm exposes no wasm memory, so llamats kernels cannot run on it; pass wasmKernels: false to initBackend (or set LLAMATS_WASM_KERNELS=0).",
      );
    const { module, fma } = compileKernels(shared !== undefined);
    this.fma = fma;
    this.exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exports;
    const threads = shared ? Math.max(1, backend.wasm.tfjs?.getThreadsCount?.() ?? 1) : 1;
    this.threads = threads;
    this.pool = threads > 1 ? new KernelThreads(memory, module, Object.keys(this.exports), threads) : null;
    this.panels = Array.from({ length: threads }, () => backend.wasm._malloc(PANEL_FLOATS * 4) >>> 0);
  }

  /** The kernels for the active backend when it is tfjs-backend-wasm, built once per backend; else null. */
  static get(): WasmKernels | null {
    if (tf.getBackend() !== "wasm") return null;
    const backend = tf.backend() as unknown as WasmBackendLike;
    let kernels = WasmKernels.byBackend.get(backend);
    if (!kernels) {
      kernels = new WasmKernels(backend);
      WasmKernels.byBackend.set(backend, kernels);
    }
    return kernels;
  }

  /** Byte offset of a tensor's data in the wasm heap. */
  offsetOf(tensor: tf.TensorInfo): number {
    const entry = this.backend.dataIdMap.get(tensor.dataId);
    if (!entry)
      throw new LlamatsError(
        "A tensor given to a llamats wasm kernel does not live on the wasm backend (was it made under another backend?).",
      );
    return entry.memoryOffset;
  }

  /** A heap block's byte offset, unsigned: past 2 GiB the i32 that _malloc returns reads negative in JS (as tfjs does). */
  malloc(bytes: number): number {
    return this.backend.wasm._malloc(bytes) >>> 0;
  }

  free(ptr: number): void {
    this.backend.wasm._free(ptr);
  }

  private parallel(name: keyof Exports, shares: number[][]): void {
    if (this.pool && shares.length > 1)
      this.pool.run(name, this.exports[name], shares, this.pace === "decode" ? DECODE_SPINS : SPINS);
    else for (const args of shares) this.exports[name](...args);
  }

  /** c (+)= op(a) · op(b) per batch; see GemmArgs. */
  gemm(g: GemmArgs): void {
    if (g.batch === 0 || g.m === 0 || g.n === 0) return;
    const shares = splitGemm(g.batch, g.m, g.n, g.k, this.threads);
    this.parallel(
      "gemm",
      shares.map((s, t) => [
        g.a,
        g.b,
        g.c,
        g.m,
        g.n,
        g.k,
        +g.transposeA,
        +g.transposeB,
        g.strideA,
        g.strideB,
        g.strideC,
        ...s,
        +(g.accumulate ?? false),
        g.ldc ?? 0,
        this.panels[t],
      ]),
    );
  }

  /** out = x · rsqrt(mean(x²) + eps) · w over `rows` rows of `dim`. */
  rmsNorm(x: number, w: number, out: number, rows: number, dim: number, eps: number): void {
    const cuts = this.cuts(rows, rows * dim);
    this.parallel(
      "rms_norm",
      cuts.slice(1).map((to, t) => [x + cuts[t] * dim * 4, w, out + cuts[t] * dim * 4, to - cuts[t], dim, eps]),
    );
  }

  /** RMSNorm's dx over `rows` rows of `dim`: s·w·dy − x·s³·mean(dy·w·x), s = rsqrt(mean(x²) + eps). */
  rmsNormGradX(x: number, w: number, dy: number, dx: number, rows: number, dim: number, eps: number): void {
    const cuts = this.cuts(rows, 2 * rows * dim);
    this.parallel(
      "rms_norm_grad_x",
      cuts
        .slice(1)
        .map((to, t) => [
          x + cuts[t] * dim * 4,
          w,
          dy + cuts[t] * dim * 4,
          dx + cuts[t] * dim * 4,
          to - cuts[t],
          dim,
          eps,
        ]),
    );
  }

  /** RMSNorm's dweight [dim] = Σ over `rows` rows of dy · x · rsqrt(mean(x²) + eps): row scales first, then columns per thread. */
  rmsNormGradWeight(x: number, dy: number, dw: number, rows: number, dim: number, eps: number): void {
    const scales = this.malloc(Math.max(rows, 1) * 4);
    try {
      const rowCuts = this.cuts(rows, rows * dim);
      this.parallel(
        "rms_scales",
        rowCuts.slice(1).map((to, t) => [x, scales, dim, eps, rowCuts[t], to]),
      );
      const colCuts = this.cuts(dim, rows * dim, 4);
      this.parallel(
        "rms_norm_grad_w",
        colCuts.slice(1).map((to, t) => [x, dy, scales, dw, rows, dim, colCuts[t], to]),
      );
    } finally {
      this.free(scales);
    }
  }

  /** Rotate-half RoPE in place on `count` vectors of `d` per row (row stride in floats); cos/sin [rows, d]. */
  rope(x: number, cos: number, sin: number, rows: number, rowStride: number, count: number, d: number): void {
    this.exports.rope(x, cos, sin, rows, rowStride, count, d);
  }

  /**
   * RoPE as an op: out = x · cos + rotate_half(x) · sin for x [batch, heads, seq, d] (or [batch, seq, heads, d] when
   * headsInner), tables [tableBatch (1 or batch), seq, d]; `transposed` applies the inverse rotation (the gradient).
   */
  ropeRotate(o: {
    x: number;
    cos: number;
    sin: number;
    out: number;
    batch: number;
    heads: number;
    seq: number;
    d: number;
    tableBatch: number;
    headsInner?: boolean;
    transposed: boolean;
  }): void {
    const vectors = o.batch * o.heads * o.seq;
    const cuts = this.cuts(vectors, vectors * o.d);
    const perBatchTable = o.tableBatch === 1 ? 0 : 1;
    this.parallel(
      "rope_rotate",
      cuts
        .slice(1)
        .map((to, t) => [
          o.x,
          o.cos,
          o.sin,
          o.out,
          o.d,
          o.seq,
          o.heads * o.seq,
          o.headsInner ? o.heads : 1,
          perBatchTable,
          +o.transposed,
          cuts[t],
          to,
        ]),
    );
  }

  /** Single-query attention over a [batch, kvHeads, capacity, d] cache for batch × heads pairs; mask optional (0). */
  attend(o: {
    q: number;
    qStride: number;
    keys: number;
    values: number;
    out: number;
    mask: number;
    batch: number;
    heads: number;
    kvHeads: number;
    d: number;
    capacity: number;
    length: number;
    scale: number;
  }): void {
    const pairs = o.batch * o.heads;
    const cuts = this.cuts(pairs, o.length * o.d * pairs);
    const scratch = this.scoreScratch(o.length, cuts.length - 1);
    this.parallel(
      "attend",
      cuts
        .slice(1)
        .map((to, t) => [
          o.q,
          o.qStride,
          o.keys,
          o.values,
          o.out,
          o.mask,
          o.heads,
          o.kvHeads,
          o.d,
          o.capacity,
          o.length,
          o.scale,
          cuts[t],
          to,
          scratch + t * o.length * 4,
        ]),
    );
  }

  /** out[r] = silu(gate[r]) · up[r] for rows of [gate | up] (2·ffn floats). */
  siluMul(gateUp: number, out: number, rows: number, ffn: number): void {
    const cuts = this.cuts(rows, rows * ffn);
    this.parallel(
      "silu_mul",
      cuts
        .slice(1)
        .map((to, t) => [
          gateUp + cuts[t] * 8 * ffn,
          gateUp + cuts[t] * 8 * ffn + ffn * 4,
          out + cuts[t] * 4 * ffn,
          to - cuts[t],
          ffn,
          2 * ffn,
          ffn,
        ]),
    );
  }

  /** out = silu(gate) · up over n floats (SwiGLU's gating on separate buffers). */
  swiglu(gate: number, up: number, out: number, n: number): void {
    const cuts = this.cuts(n, n, 4);
    this.parallel(
      "silu_mul",
      cuts.slice(1).map((to, t) => [gate + cuts[t] * 4, up + cuts[t] * 4, out + cuts[t] * 4, 1, to - cuts[t], 0, 0]),
    );
  }

  /**
   * SwiGLU's gradient over n floats in one pass, s = sigmoid(gate): dgate = dy·up·s·(1 + gate·(1 − s)), dup = dy·gate·s.
   * Pass 0 for an output not wanted (up is read only for dgate).
   */
  swigluGrad(o: { gate: number; up: number; dy: number; dgate: number; dup: number; n: number }): void {
    const cuts = this.cuts(o.n, o.n, 4);
    const at = (ptr: number, t: number) => (ptr === 0 ? 0 : ptr + cuts[t] * 4);
    this.parallel(
      "swiglu_grad",
      cuts
        .slice(1)
        .map((to, t) => [at(o.gate, t), at(o.up, t), at(o.dy, t), at(o.dgate, t), at(o.dup, t), to - cuts[t]]),
    );
  }

  /** Elementwise exp of n floats. */
  exp(x: number, out: number, n: number): void {
    const cuts = this.cuts(n, n, 4);
    this.parallel(
      "exp_n",
      cuts.slice(1).map((to, t) => [x + cuts[t] * 4, out + cuts[t] * 4, to - cuts[t]]),
    );
  }

  /**
   * Softmax cross-entropy over `rows` rows of logits (int32 targets): nll per row (and logsumexp per row into `lse`
   * when given), or, when `grad` is given, grad = (softmax − onehot) · dy per row instead, from `lse` when given (else
   * computed again). A negative target marks a row not counted: 0 loss, 0 gradient, no work. Offsets in bytes; 0 for
   * the buffers not used.
   */
  crossEntropy(o: {
    logits: number;
    targets: number;
    nll: number;
    dy: number;
    grad: number;
    lse?: number;
    rows: number;
    vocab: number;
  }): void {
    const cuts = this.cuts(o.rows, o.rows * o.vocab);
    this.parallel(
      "cross_entropy",
      cuts.slice(1).map((to, t) => [o.logits, o.targets, o.nll, o.dy, o.grad, o.lse ?? 0, o.vocab, cuts[t], to]),
    );
  }

  /**
   * C [m, n] = A [m, k] · B with B read from a packed weight (words, scales: byte offsets) and unpacked panel by panel:
   * `transposedWeight` B = Wᵀ (the forward: n = out features, k = cols), else B = W (dX: n = cols, k = out features).
   * `format` is a PACKED_FORMAT_CODES number.
   */
  packedMatMul(o: {
    a: number;
    words: number;
    scales: number;
    c: number;
    m: number;
    n: number;
    k: number;
    format: number;
    blockSize: number;
    cols: number;
    transposedWeight: boolean;
  }): void {
    if (o.m === 0 || o.n === 0) return;
    if (this.nf4Table === 0) {
      this.nf4Table = this.malloc(NF4_CODE.byteLength);
      this.heapF32().set(NF4_CODE, this.nf4Table / 4);
    }
    const shares = splitGemm(1, o.m, o.n, o.k, this.threads);
    this.parallel(
      "packed_matmul",
      shares.map(([, , m0, m1, j0, j1], t) => [
        o.a,
        o.words,
        o.scales,
        this.nf4Table,
        o.c,
        o.m,
        o.n,
        o.k,
        o.format,
        o.blockSize,
        o.cols,
        +o.transposedWeight,
        m0,
        m1,
        j0,
        j1,
        this.panels[t],
      ]),
    );
  }

  /**
   * y [m, n] = x [m, k] · Wᵀ for Q8_0 weights (int8 codes at `words`, a float32 scale per 32 at `scales`) with x
   * quantized to int8 per 32-block first, as llama.cpp's q8_0 × q8_0 dot: integer SIMD dot products, threads over
   * the outputs. For decoding (few rows); k must be a multiple of 32.
   */
  q8MatMul(o: { x: number; m: number; k: number } & Q8Output): void {
    this.q8MatMuls({ x: o.x, m: o.m, k: o.k, outputs: [o] });
  }

  /**
   * q8MatMul for several weights applied to the same x (q, k and v; gate and up): x is quantized once, and each
   * thread takes one share of all their output columns, so the threads meet once rather than once a weight.
   */
  q8MatMuls(o: { x: number; m: number; k: number; outputs: readonly Q8Output[] }): void {
    const total = o.outputs.reduce((sum, out) => sum + out.n, 0);
    if (o.m === 0 || total === 0) return;
    const xq = this.malloc(o.m * o.k);
    const xd = this.malloc((o.m * o.k) / 8);
    const desc = this.malloc(o.outputs.length * 6 * 4);
    try {
      this.exports.quantize_q8_rows(o.x, xq, xd, o.m, o.k);
      const table = new Uint32Array(this.backend.wasm.HEAPU8.buffer, desc, o.outputs.length * 6);
      o.outputs.forEach((out, i) =>
        table.set([out.words, out.scales, out.y, out.n, out.ldc ?? 0, +(out.accumulate ?? false)], i * 6),
      );
      const cuts = this.cuts(total, o.m * total * o.k, 4);
      this.parallel(
        "q8_dot_rows_many",
        cuts.slice(1).map((to, t) => [xq, xd, desc, o.outputs.length, o.m, o.k, cuts[t], to]),
      );
    } finally {
      this.free(xq);
      this.free(xd);
      this.free(desc);
    }
  }

  /** Cut points sharing `count` items (in multiples of `align`) over the threads; one thread for little `work`. */
  private cuts(count: number, work: number, align = 1): number[] {
    const threads = work < MIN_THREADED_MACS ? 1 : Math.min(this.threads, Math.ceil(count / align));
    return even(count, threads, align);
  }

  /** The wasm heap as floats (a fresh view: tfjs allocations can grow, and so replace, the buffer). */
  heapF32(): Float32Array {
    return new Float32Array(this.backend.wasm.HEAPU8.buffer);
  }

  private scoreScratch(length: number, threads: number): number {
    const floats = Math.max(length, 1) * threads;
    if (!this.scores || this.scores.floats < floats) {
      if (this.scores) this.free(this.scores.ptr);
      const grown = Math.max(floats, 1024 * threads);
      this.scores = { ptr: this.malloc(grown * 4), floats: grown };
    }
    return this.scores.ptr;
  }
}
