import * as tf from "@tensorflow/tfjs-core";
import { wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { WasmKernels } from "../kernels/wasm-kernels.js";
import { cpuKernelFunc, namedInputs, wasmKernelFunc, type HostKernel, type WasmBackendLike } from "./host-kernel.js";
import type { KernelArgs, LlamatsOp } from "./kernel-types.js";
import { webgpuRmsNorm, webgpuRmsNormGradWeight, webgpuRmsNormGradX } from "./rms-norm.webgpu.js";

/** x [..., hidden], weight [hidden] → x · rsqrt(mean(x²) + eps) · weight; attrs { eps }. */
export const RMS_NORM = "LlamatsRmsNorm";
/** x, weight, dy → dx; attrs { eps }. */
export const RMS_NORM_GRAD_X = "LlamatsRmsNormGradX";
/** x, dy → dweight [hidden] (summed over rows); attrs { eps }. */
export const RMS_NORM_GRAD_WEIGHT = "LlamatsRmsNormGradWeight";

/** 1 / sqrt(mean(x[row]²) + eps). */
function rowScale(x: Float32Array, row: number, hidden: number, eps: number): number {
  let ss = 0;
  for (let i = 0; i < hidden; i++) ss += x[row + i] * x[row + i];
  return 1 / Math.sqrt(ss / hidden + eps);
}

/** y = x · scale · w per row of `hidden`. */
function rmsNormRows(x: Float32Array, w: Float32Array, y: Float32Array, hidden: number, eps: number): void {
  for (let row = 0; row < x.length; row += hidden) {
    const scale = rowScale(x, row, hidden, eps);
    for (let i = 0; i < hidden; i++) y[row + i] = x[row + i] * scale * w[i];
  }
}

/** dx = scale · w · dy − x · scale³ · mean(dy · w · x), per row. */
function rmsNormGradXRows(
  x: Float32Array,
  w: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  hidden: number,
  eps: number,
): void {
  for (let row = 0; row < x.length; row += hidden) {
    const scale = rowScale(x, row, hidden, eps);
    let dot = 0;
    for (let i = 0; i < hidden; i++) dot += dy[row + i] * w[i] * x[row + i];
    const coef = (dot * scale * scale * scale) / hidden;
    for (let i = 0; i < hidden; i++) dx[row + i] = scale * w[i] * dy[row + i] - x[row + i] * coef;
  }
}

/** dw[i] = Σ_rows dy · x · scale. */
function rmsNormGradWeightRows(x: Float32Array, dy: Float32Array, dw: Float32Array, hidden: number, eps: number): void {
  const sums = new Float64Array(hidden);
  for (let row = 0; row < x.length; row += hidden) {
    const scale = rowScale(x, row, hidden, eps);
    for (let i = 0; i < hidden; i++) sums[i] += dy[row + i] * x[row + i] * scale;
  }
  dw.set(sums);
}

const eps = (attrs: tf.NamedAttrMap) => attrs.eps as number;
const hiddenOf = (infos: Record<string, tf.TensorInfo>) => infos.x.shape[infos.x.shape.length - 1];

const forwardHost: HostKernel = {
  inputs: ["x", "weight"],
  outputShapes: ({ x }) => [[...x.shape]],
  run: ({ x, weight }, [y], infos, attrs) =>
    rmsNormRows(x as Float32Array, weight as Float32Array, y, hiddenOf(infos), eps(attrs)),
};

const gradXHost: HostKernel = {
  inputs: ["x", "weight", "dy"],
  outputShapes: ({ x }) => [[...x.shape]],
  run: ({ x, weight, dy }, [dx], infos, attrs) =>
    rmsNormGradXRows(x as Float32Array, weight as Float32Array, dy as Float32Array, dx, hiddenOf(infos), eps(attrs)),
};

const gradWeightHost: HostKernel = {
  inputs: ["x", "dy"],
  outputShapes: (infos) => [[hiddenOf(infos)]],
  run: ({ x, dy }, [dw], infos, attrs) =>
    rmsNormGradWeightRows(x as Float32Array, dy as Float32Array, dw, hiddenOf(infos), eps(attrs)),
};

/** llamats' SIMD kernels (kernels/llamats-kernels.c) when installed, else null (the JS loops run). */
function cKernels(): WasmKernels | null {
  return wasmKernelsInstalled() ? WasmKernels.get() : null;
}

/** On wasm: a row-wise C kernel (rows split over the kernel threads) when llamats' kernels are installed, else the JS loop over the heap. */
function wasmRowKernel(
  name: string,
  host: HostKernel,
  run: (
    kernels: WasmKernels,
    ptr: Record<string, number>,
    out: number,
    rows: number,
    hidden: number,
    eps: number,
  ) => void,
): tf.KernelFunc {
  const plain = wasmKernelFunc(name, host);
  return (args: KernelArgs) => {
    const kernels = cKernels();
    const infos = namedInputs(args.inputs, host.inputs, name);
    const hidden = hiddenOf(infos);
    const size = infos.x.shape.reduce((a, b) => a * b, 1);
    if (!kernels || size === 0) return plain(args as never);
    const out = (args.backend as WasmBackendLike).makeOutput(host.outputShapes(infos, args.attrs ?? {})[0], "float32");
    const ptr: Record<string, number> = {};
    for (const [key, info] of Object.entries(infos)) ptr[key] = kernels.offsetOf(info);
    run(kernels, ptr, kernels.offsetOf(out), size / hidden, hidden, eps(args.attrs!));
    return out;
  };
}

const wasmForward = wasmRowKernel(RMS_NORM, forwardHost, (k, p, out, rows, hidden, e) =>
  k.rmsNorm(p.x, p.weight, out, rows, hidden, e),
);
const wasmGradX = wasmRowKernel(RMS_NORM_GRAD_X, gradXHost, (k, p, out, rows, hidden, e) =>
  k.rmsNormGradX(p.x, p.weight, p.dy, out, rows, hidden, e),
);
const wasmGradWeight = wasmRowKernel(RMS_NORM_GRAD_WEIGHT, gradWeightHost, (k, p, out, rows, hidden, e) =>
  k.rmsNormGradWeight(p.x, p.dy, out, rows, hidden, e),
);

/** dx and dweight as separate kernels: frozen norm weights (LoRA) never pay for the column sums. */
const gradient: tf.GradConfig = {
  kernelName: RMS_NORM,
  inputsToSave: ["x", "weight"],
  gradFunc: (dy, saved, attrs) => {
    const [x, weight] = saved;
    return {
      x: () => tf.engine().runKernel<tf.Tensor>(RMS_NORM_GRAD_X, { x, weight, dy: dy as tf.Tensor }, attrs),
      weight: () => tf.engine().runKernel<tf.Tensor>(RMS_NORM_GRAD_WEIGHT, { x, dy: dy as tf.Tensor }, attrs),
    };
  },
};

export const rmsNormOp: LlamatsOp = {
  kernels: [
    {
      name: RMS_NORM,
      cpu: cpuKernelFunc(RMS_NORM, forwardHost),
      wasm: wasmForward,
      webgpu: webgpuRmsNorm,
    },
    {
      name: RMS_NORM_GRAD_X,
      cpu: cpuKernelFunc(RMS_NORM_GRAD_X, gradXHost),
      wasm: wasmGradX,
      webgpu: webgpuRmsNormGradX,
    },
    {
      name: RMS_NORM_GRAD_WEIGHT,
      cpu: cpuKernelFunc(RMS_NORM_GRAD_WEIGHT, gradWeightHost),
      wasm: wasmGradWeight,
      webgpu: webgpuRmsNormGradWeight,
    },
  ],
  gradients: [gradient],
};
