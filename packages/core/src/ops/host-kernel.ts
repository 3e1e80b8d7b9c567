import type * as tf from "@tensorflow/tfjs-core";
import type { KernelArgs } from "./kernel-types.js";

/** A tensor's data as the kernel loops see it: float32 or int32 elements in row-major order. */
export type HostArray = Float32Array | Int32Array;

/** Inputs by name as typed arrays (cpu: the backend's own arrays; wasm: views of its heap). */
export type HostInputs = Record<string, HostArray>;

/** A kernel written once as plain loops over typed arrays, run on tfjs-backend-cpu and tfjs-backend-wasm alike. */
export interface HostKernel {
  /** Input names, in the order of the TensorInfos passed to `run`'s `infos`. */
  inputs: readonly string[];
  /** Shapes of the float32 outputs, from the inputs' shapes and the attributes. */
  outputShapes(infos: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap): number[][];
  /** Fills `outputs` (one per output shape; not zeroed on wasm, so write every element) from `inputs`. */
  run(inputs: HostInputs, outputs: Float32Array[], infos: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap): void;
}

/** The parts of tfjs-backend-cpu's backend object the adapter uses. */
interface CpuBackendLike {
  data: { get(dataId: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The parts of tfjs-backend-wasm's backend object the adapter uses. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The named inputs, checked present (tfjs passes whatever the caller of runKernel gave). */
export function namedInputs(
  inputs: tf.NamedTensorInfoMap,
  names: readonly string[],
  kernel: string,
): Record<string, tf.TensorInfo> {
  const out: Record<string, tf.TensorInfo> = {};
  for (const name of names) {
    const info = inputs[name];
    if (!info) throw new Error(`${kernel}: input "${name}" is missing.`);
    out[name] = info;
  }
  return out;
}

function single(outputs: tf.TensorInfo[]): tf.TensorInfo | tf.TensorInfo[] {
  return outputs.length === 1 ? outputs[0] : outputs;
}

/** The kernel on tfjs-backend-cpu: its data already lives in JS typed arrays. */
export function cpuKernelFunc(name: string, kernel: HostKernel): tf.KernelFunc {
  return (args: KernelArgs) => {
    const backend = args.backend as CpuBackendLike;
    const attrs = args.attrs ?? {};
    const infos = namedInputs(args.inputs, kernel.inputs, name);
    const views: HostInputs = {};
    for (const [key, info] of Object.entries(infos)) views[key] = backend.data.get(info.dataId).values as HostArray;
    const shapes = kernel.outputShapes(infos, attrs);
    const outputs = shapes.map((shape) => new Float32Array(size(shape)));
    kernel.run(views, outputs, infos, attrs);
    return single(shapes.map((shape, i) => backend.makeTensorInfo(shape, "float32", outputs[i])));
  };
}

/**
 * The kernel on tfjs-backend-wasm, over views of its heap. Outputs are allocated first and the views taken after,
 * since an allocation can grow (and so replace) the heap's buffer.
 */
export function wasmKernelFunc(name: string, kernel: HostKernel): tf.KernelFunc {
  return (args: KernelArgs) => {
    const backend = args.backend as WasmBackendLike;
    const attrs = args.attrs ?? {};
    const infos = namedInputs(args.inputs, kernel.inputs, name);
    const outputs = kernel.outputShapes(infos, attrs).map((shape) => backend.makeOutput(shape, "float32"));
    const views: HostInputs = {};
    for (const [key, info] of Object.entries(infos)) views[key] = heapView(backend, info);
    const outViews = outputs.map((info) => heapView(backend, info) as Float32Array);
    kernel.run(views, outViews, infos, attrs);
    return single(outputs);
  };
}

/** A float32 or int32 view of a tensor on the wasm heap (empty tensors have no memory of their own). */
export function heapView(backend: WasmBackendLike, info: tf.TensorInfo): HostArray {
  if (size(info.shape) === 0) return info.dtype === "int32" ? new Int32Array(0) : new Float32Array(0);
  return backend.typedArrayFromHeap(info) as HostArray;
}

/**
 * A cpu or wasm kernel followed by its epilogue, in place on the product it just made: out = alpha · out + addend
 * (attrs.alpha, default 1; inputs.addend, optional, of the output's shape). The matmuls' host side of what their
 * webgpu kernels do as they store.
 */
export function withEpilogue(kernel: tf.KernelFunc, backend: "cpu" | "wasm"): tf.KernelFunc {
  return (args) => {
    const out = kernel(args) as tf.TensorInfo;
    const addend = (args.inputs as { addend?: tf.TensorInfo }).addend;
    const alpha = (args.attrs?.alpha as number | undefined) ?? 1;
    if (!addend && alpha === 1) return out;
    const view = (info: tf.TensorInfo) =>
      (backend === "cpu"
        ? (args.backend as CpuBackendLike).data.get(info.dataId).values
        : heapView(args.backend as WasmBackendLike, info)) as Float32Array;
    const y = view(out);
    if (addend) {
      const add = view(addend);
      for (let i = 0; i < y.length; i++) y[i] = alpha * y[i] + add[i];
    } else for (let i = 0; i < y.length; i++) y[i] = alpha * y[i];
    return out;
  };
}
