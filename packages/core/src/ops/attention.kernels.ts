import * as tf from "@tensorflow/tfjs-core";
import { wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { WasmKernels } from "../kernels/wasm-kernels.js";
import {
  attentionBackward,
  attentionDimsOf,
  attentionForward,
  scratchFloats,
  type AttentionDims,
} from "./attention.host.js";
import { flashGradStorageBytes, webgpuFlashAttentionGrad } from "./attention-flash-grad.webgpu.js";
import {
  chooseFlashTile,
  FLASH_TILES,
  flashStorageBytes,
  webgpuFlashAttention,
  type FlashTile,
} from "./attention-flash.webgpu.js";
import { webgpuAttention, webgpuAttentionGrad } from "./attention.webgpu.js";
import { heapView, type WasmBackendLike } from "./host-kernel.js";
import { headLayout, swapMiddleAxes } from "./head-layout.js";
import { at, JS_MATH, type Buf, type HostMath } from "./host-math.js";
import type { KernelArgs, LlamatsOp } from "./kernel-types.js";
import { registerLlamatsOp } from "./register-op.js";

/** q [b, h, sq, d], k and v [b, kvh, sk, d] → softmax(q·kᵀ · scale) · v [b, h, sq, d]; attrs { scale }. */
export const ATTENTION = "LlamatsAttention";
/** The same with an additive mask [b or 1, 1, sq, sk] (a second name: tfjs saves a gradient's inputs by name). */
export const ATTENTION_MASKED = "LlamatsAttentionMasked";
/** q, k, v, (mask), o (the forward's output), dy → [dq, dk, dv]; attrs { scale }. */
export const ATTENTION_GRAD = "LlamatsAttentionGrad";

type Infos = Record<"q" | "k" | "v" | "o" | "dy", tf.TensorInfo> & { mask?: tf.TensorInfo };

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The tensors a host kernel reads and the shapes of what it writes. */
interface HostCall {
  reads: Record<string, tf.TensorInfo>;
  writes: number[][];
  /** Scratch floats, taken before any view of memory. */
  scratch: number;
  run(bufs: Record<string, Buf>, outputs: Buf[], scratch: Buf, math: HostMath): void;
}

/**
 * A "bshd" call run by the host loops, which take "bhsd" (their gemm has no row stride): q, k, v (o, dy) copied to
 * bhsd in scratch after the loops' own, the outputs made there and copied back. One copy per tensor on cpu/wasm,
 * where a copy is a memcpy per row and no dispatch.
 */
function inHostLayout(c: HostCall, dims: AttentionDims): HostCall {
  if (dims.layout === "bhsd") return c;
  const perHead = Object.entries(c.reads).filter(([name]) => name !== "mask");
  const floats = [...perHead.map(([, info]) => info.shape), ...c.writes].reduce((n, shape) => n + size(shape), 0);
  return {
    reads: c.reads,
    writes: c.writes,
    scratch: c.scratch + floats,
    run: (bufs, outputs, scratch, math) => {
      let next = c.scratch;
      const take = (shape: readonly number[]) => {
        const buf = at(scratch, next);
        next += size(shape);
        return buf;
      };
      const inner: Record<string, Buf> = { ...bufs };
      for (const [name, info] of perHead) {
        const [b, sq, h, d] = info.shape;
        inner[name] = take(info.shape);
        swapMiddleAxes(bufs[name], inner[name], [b, sq, h, d]);
      }
      const outs = c.writes.map(take);
      c.run(inner, outs, scratch, math);
      c.writes.forEach(([b, sq, h, d], i) => swapMiddleAxes(outs[i], outputs[i], [b, h, sq, d]));
    },
  };
}

function forwardCall(args: KernelArgs): HostCall {
  const { q, k, v, mask } = args.inputs as Infos;
  const dims = attentionDimsOf(args);
  return inHostLayout(
    {
      reads: { q, k, v, ...(mask ? { mask } : {}) },
      writes: [[...q.shape]],
      scratch: scratchFloats(dims, "forward"),
      run: (b, [out], scratch, math) =>
        attentionForward({ q: b.q, k: b.k, v: b.v, mask: b.mask ?? null }, out, dims, math, scratch),
    },
    dims,
  );
}

function backwardCall(args: KernelArgs): HostCall {
  const { q, k, v, mask, o, dy } = args.inputs as Infos;
  const dims = attentionDimsOf(args);
  return inHostLayout(
    {
      reads: { q, k, v, o, dy, ...(mask ? { mask } : {}) },
      writes: [[...q.shape], [...k.shape], [...k.shape]],
      scratch: scratchFloats(dims, "backward"),
      run: (b, [dq, dk, dv], scratch, math) =>
        attentionBackward(
          { q: b.q, k: b.k, v: b.v, mask: b.mask ?? null, o: b.o, dy: b.dy },
          { dq, dk, dv },
          dims,
          math,
          scratch,
        ),
    },
    dims,
  );
}

function single(outputs: tf.TensorInfo[]): tf.TensorInfo | tf.TensorInfo[] {
  return outputs.length === 1 ? outputs[0] : outputs;
}

interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** On tfjs-backend-cpu: its own arrays and the JS loops. */
function cpuKernel(call: (args: KernelArgs) => HostCall): tf.KernelFunc {
  return (args: KernelArgs) => {
    const backend = args.backend as CpuBackendLike;
    const c = call(args);
    const bufs: Record<string, Buf> = {};
    for (const [name, info] of Object.entries(c.reads))
      bufs[name] = { array: backend.data.get(info.dataId).values as Float32Array, offset: 0 };
    const outputs = c.writes.map((shape) => new Float32Array(size(shape)));
    c.run(
      bufs,
      outputs.map((array) => ({ array, offset: 0 })),
      { array: new Float32Array(c.scratch), offset: 0 },
      JS_MATH,
    );
    return single(c.writes.map((shape, i) => backend.makeTensorInfo(shape, "float32", outputs[i])));
  };
}

/** llamats' SIMD gemm and exp (threaded) on byte offsets of the heap every Buf of this call lives in. */
function simdMath(kernels: WasmKernels): HostMath {
  return {
    gemm: (a, b, c, g) => kernels.gemm({ ...g, a: a.offset * 4, b: b.offset * 4, c: c.offset * 4 }),
    exp: (x, count) => kernels.exp(x.offset * 4, x.offset * 4, count),
  };
}

/**
 * On tfjs-backend-wasm: llamats' SIMD gemm and exp over the heap when its kernels are installed (scratch from the
 * heap), else the JS loops over heap views. Everything is allocated before the first view: allocating can grow the heap.
 */
function wasmKernel(call: (args: KernelArgs) => HostCall): tf.KernelFunc {
  return (args: KernelArgs) => {
    const backend = args.backend as WasmBackendLike;
    const c = call(args);
    const outputs = c.writes.map((shape) => backend.makeOutput(shape, "float32"));
    const empty = [...Object.values(c.reads), ...outputs].some((info) => size(info.shape) === 0);
    const kernels = wasmKernelsInstalled() && !empty ? WasmKernels.get() : null;
    if (!kernels) {
      const bufs: Record<string, Buf> = {};
      for (const [name, info] of Object.entries(c.reads))
        bufs[name] = { array: heapView(backend, info) as Float32Array, offset: 0 };
      const outs = outputs.map((info) => ({ array: heapView(backend, info) as Float32Array, offset: 0 }));
      c.run(bufs, outs, { array: new Float32Array(c.scratch), offset: 0 }, JS_MATH);
      return single(outputs);
    }
    const scratch = kernels.malloc(Math.max(1, c.scratch) * 4);
    try {
      const heap = kernels.heapF32();
      const onHeap = (info: tf.TensorInfo): Buf => ({ array: heap, offset: kernels.offsetOf(info) / 4 });
      const bufs: Record<string, Buf> = {};
      for (const [name, info] of Object.entries(c.reads)) bufs[name] = onHeap(info);
      c.run(bufs, outputs.map(onHeap), { array: heap, offset: scratch / 4 }, simdMath(kernels));
    } finally {
      kernels.free(scratch);
    }
    return single(outputs);
  };
}

/** K or V [b, kvh, sk, d] with each head repeated for its query heads: [b, h, sk, d]. */
export function repeatHeads(t: tf.Tensor, heads: number): tf.Tensor {
  const [b, kvh, sk, d] = t.shape as [number, number, number, number];
  if (kvh === heads) return t;
  // Rank-3 tile: tfjs has no tile gradient past rank 4.
  return tf.reshape(tf.tile(tf.reshape(t, [b * kvh, 1, sk * d]), [1, heads / kvh, 1]), [b, heads, sk, d]);
}

/** d(loss)/d(mask) from tfjs ops (the mask is a constant in a model, so this runs only when a test asks): Σ_heads P ∘ (dP − D). */
function maskGradient(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  mask: tf.Tensor,
  o: tf.Tensor,
  dy: tf.Tensor,
  scale: number,
): tf.Tensor {
  const heads = q.shape[1]!;
  const probs = tf.softmax(tf.add(tf.mul(tf.matMul(q, repeatHeads(k, heads), false, true), scale), mask));
  const dp = tf.matMul(dy, repeatHeads(v, heads), false, true);
  const perHead = tf.mul(probs, tf.sub(dp, tf.sum(tf.mul(dy, o), -1, true)));
  const perBatch = tf.sum(perHead, 1, true);
  return mask.shape[0] === 1 ? tf.sum(perBatch, 0, true) : perBatch;
}

/**
 * dq, dk and dv come from one kernel, run once when the backward pass reaches the op (each input's closure hands
 * out its part; one not asked for is freed with the pass): the softmax is recomputed from q and k once for all three.
 */
function gradient(kernelName: string, masked: boolean): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: masked ? ["q", "k", "v", "mask"] : ["q", "k", "v"],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [q, k, v] = saved;
      const mask = masked ? saved[3] : null;
      const o = saved[saved.length - 1];
      const g = dy as tf.Tensor;
      const [dq, dk, dv] = tf
        .engine()
        .runKernel<tf.Tensor[]>(ATTENTION_GRAD, { q, k, v, o, dy: g, ...(mask ? { mask } : {}) }, attrs);
      const grads: Record<string, () => tf.Tensor> = { q: () => dq, k: () => dk, v: () => dv };
      if (mask) {
        // The mask gradient's tfjs ops take bhsd: a "bshd" call is transposed for it (a test-only path).
        const bhsd = (t: tf.Tensor) =>
          headLayout(attrs.layout, "attention") === "bshd" ? tf.transpose(t, [0, 2, 1, 3]) : t;
        grads.mask = () => maskGradient(bhsd(q), bhsd(k), bhsd(v), mask, bhsd(o), bhsd(g), attrs.scale as number);
      }
      return grads;
    },
  };
}

/**
 * On webgpu: the flash-style kernel with the largest key/query tile the device's workgroup memory holds at this head
 * size, else the kernel with one workgroup per query row. attrs.flashTile (tests only) forces one: an index into
 * FLASH_TILES, or -1 for the row kernel.
 */
function flashTile(args: KernelArgs, bytes: (t: FlashTile, d: number) => number): FlashTile | null {
  const forced = args.attrs?.flashTile as number | undefined;
  if (forced !== undefined) return FLASH_TILES[forced] ?? null;
  const { q } = args.inputs as Infos;
  const limits = (args.backend as { device: { limits: { maxComputeWorkgroupStorageSize: number } } }).device.limits;
  return chooseFlashTile(q.shape[3], limits, bytes);
}

function webgpuForward(args: KernelArgs): tf.TensorInfo {
  const tile = flashTile(args, flashStorageBytes);
  return tile ? webgpuFlashAttention(args, tile) : webgpuAttention(args);
}

/** The backward likewise: flash-style dq, dk, dv where the tile fits, else the row kernels. */
function webgpuBackward(args: KernelArgs): tf.TensorInfo[] {
  const tile = flashTile(args, flashGradStorageBytes);
  return tile ? webgpuFlashAttentionGrad(args, tile) : webgpuAttentionGrad(args);
}

const forward = {
  cpu: cpuKernel(forwardCall),
  wasm: wasmKernel(forwardCall),
  webgpu: webgpuForward as unknown as tf.KernelFunc,
};

const attentionOp: LlamatsOp = {
  kernels: [
    { name: ATTENTION, ...forward },
    { name: ATTENTION_MASKED, ...forward },
    {
      name: ATTENTION_GRAD,
      cpu: cpuKernel(backwardCall),
      wasm: wasmKernel(backwardCall),
      webgpu: webgpuBackward,
    },
  ],
  gradients: [gradient(ATTENTION, false), gradient(ATTENTION_MASKED, true)],
};

let registered = false;

/** Registers the attention kernels and gradients once (the op calls it; ensureLlamatsKernels covers the other ops). */
export function ensureAttentionKernels(): void {
  if (registered) return;
  registerLlamatsOp(attentionOp);
  registered = true;
}
