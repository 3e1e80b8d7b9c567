import * as tf from "@tensorflow/tfjs-core";
import { WasmKernels } from "./wasm-kernels.js";

interface BackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: BackendLike; attrs?: tf.NamedAttrMap };

const originals = new Map<string, tf.KernelConfig>();

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** tfjs's BatchMatMul on our kernels: transposes, batches and one-sided broadcasting; anything else falls back. */
function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const kernels = WasmKernels.get();
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = product(outerA);
  const batchB = product(outerB);
  const simpleBroadcast = sameDims(outerA, outerB) || batchA === 1 || batchB === 1;
  if (!kernels || a.dtype !== "float32" || b.dtype !== "float32" || !simpleBroadcast) {
    return originals.get(tf.BatchMatMul)!.kernelFunc(args) as tf.TensorInfo;
  }
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outer = batchA >= batchB ? outerA : outerB;
  const batch = Math.max(batchA, batchB);
  const out = args.backend.makeOutput([...outer, m, n], "float32");
  kernels.gemm({
    a: kernels.offsetOf(a),
    b: kernels.offsetOf(b),
    c: kernels.offsetOf(out),
    m,
    n,
    k,
    transposeA,
    transposeB,
    batch,
    strideA: batchA === 1 ? 0 : m * k,
    strideB: batchB === 1 ? 0 : k * n,
    strideC: m * n,
  });
  return out;
}

/** tfjs's Exp with a SIMD exp (tfjs-backend-wasm runs libm's scalar exp per element). */
function exp(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const kernels = WasmKernels.get();
  if (!kernels || x.dtype !== "float32") return originals.get(tf.Exp)!.kernelFunc(args) as tf.TensorInfo;
  const out = args.backend.makeOutput([...x.shape], "float32");
  const size = product(x.shape);
  if (size > 0) kernels.exp(kernels.offsetOf(x), kernels.offsetOf(out), size);
  return out;
}

/** tfjs's Identity without a copy: the output shares the input's data, as tfjs-backend-cpu does (gradients make hundreds). */
function identity(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const backend = args.backend as BackendLike & { incRef?: (dataId: tf.DataId) => void };
  if (!backend.incRef) return originals.get(tf.Identity)!.kernelFunc(args) as tf.TensorInfo;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

const REPLACEMENTS: Record<string, (args: KernelArgs) => tf.TensorInfo> = {
  [tf.BatchMatMul]: batchMatMul,
  [tf.Exp]: exp,
  [tf.Identity]: identity,
};

/**
 * Puts llamats' kernels in place of tfjs-backend-wasm's BatchMatMul (its batched and transposed cases run a
 * scalar loop) and Exp. Idempotent; undo with `uninstallWasmKernels`. initBackend calls it for wasm.
 */
export function installWasmKernels(): void {
  for (const [name, kernelFunc] of Object.entries(REPLACEMENTS)) {
    if (originals.has(name)) continue;
    const original = tf.getKernel(name, "wasm");
    if (!original) continue;
    originals.set(name, original);
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

/** Restores tfjs-backend-wasm's own kernels. */
export function uninstallWasmKernels(): void {
  for (const [name, original] of originals) {
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel(original);
  }
  originals.clear();
}

/** True while llamats' kernels replace tfjs-backend-wasm's. */
export function wasmKernelsInstalled(): boolean {
  return originals.size > 0;
}
