import * as tf from '@tensorflow/tfjs-core';
import { wasmKernelsInstalled } from '../kernels/install-kernels.js';
import { WasmKernels } from '../kernels/wasm-kernels.js';
import { cpuKernelFunc, wasmKernelFunc, type HostKernel, type WasmBackendLike } from './host-kernel.js';
import type { KernelArgs, LlamatsOp } from './kernel-types.js';
import { webgpuRmsNorm, webgpuRmsNormGradWeight, webgpuRmsNormGradX } from './rms-norm.webgpu.js';

/** x [..., hidden], weight [hidden] → x · rsqrt(mean(x²) + eps) · weight; attrs { eps }. */
export const RMS_NORM = 'LlamatsRmsNorm';
/** x, weight, dy → dx; attrs { eps }. */
export const RMS_NORM_GRAD_X = 'LlamatsRmsNormGradX';
/** x, dy → dweight [hidden] (summed over rows); attrs { eps }. */
export const RMS_NORM_GRAD_WEIGHT = 'LlamatsRmsNormGradWeight';

/** 1 / sqrt(mean(x[row]²) + eps). */
function rowScale(x: Float32Array, row: number, hidden: number, eps: number): number {
  let ss = 0;
  for (let i = 0; i < hidden; i++) ss += x[row + i] * x[row + i];
  return 1 / Math.sqrt(ss / hidden + eps);
}

/** y = x · scale · w per row of `hidden`. */
export function rmsNormRows(x: Float32Array, w: Float32Array, y: Float32Array, hidden: number, eps: number): void {
  for (let row = 0; row < x.length; row += hidden) {
    const scale = rowScale(x, row, hidden, eps);
    for (let i = 0; i < hidden; i++) y[row + i] = x[row + i] * scale * w[i];
  }
}

/** dx = scale · w · dy − x · scale³ · mean(dy · w · x), per row. */
export function rmsNormGradXRows(x: Float32Array, w: Float32Array, dy: Float32Array, dx: Float32Array, hidden: number, eps: number): void {
  for (let row = 0; row < x.length; row += hidden) {
    const scale = rowScale(x, row, hidden, eps);
    let dot = 0;
    for (let i = 0; i < hidden; i++) dot += dy[row + i] * w[i] * x[row + i];
    const coef = (dot * scale * scale * scale) / hidden;
    for (let i = 0; i < hidden; i++) dx[row + i] = scale * w[i] * dy[row + i] - x[row + i] * coef;
  }
}

/** dw[i] = Σ_rows dy · x · scale. */
export function rmsNormGradWeightRows(x: Float32Array, dy: Float32Array, dw: Float32Array, hidden: number, eps: number): void {
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
  inputs: ['x', 'weight'],
  outputShapes: ({ x }) => [[...x.shape]],
  run: ({ x, weight }, [y], infos, attrs) => rmsNormRows(x as Float32Array, weight as Float32Array, y, hiddenOf(infos), eps(attrs)),
};

const gradXHost: HostKernel = {
  inputs: ['x', 'weight', 'dy'],
  outputShapes: ({ x }) => [[...x.shape]],
  run: ({ x, weight, dy }, [dx], infos, attrs) => rmsNormGradXRows(x as Float32Array, weight as Float32Array, dy as Float32Array, dx, hiddenOf(infos), eps(attrs)),
};

const gradWeightHost: HostKernel = {
  inputs: ['x', 'dy'],
  outputShapes: (infos) => [[hiddenOf(infos)]],
  run: ({ x, dy }, [dw], infos, attrs) => rmsNormGradWeightRows(x as Float32Array, dy as Float32Array, dw, hiddenOf(infos), eps(attrs)),
};

const hostForward = wasmKernelFunc(RMS_NORM, forwardHost);

/** On wasm, llamats' SIMD rms_norm when installed, else the JS loop over the heap. */
function wasmForward(args: KernelArgs): tf.TensorInfo {
  const kernels = wasmKernelsInstalled() ? WasmKernels.get() : null;
  const { x, weight } = args.inputs as { x: tf.TensorInfo; weight: tf.TensorInfo };
  const hidden = x.shape[x.shape.length - 1];
  const size = x.shape.reduce((a, b) => a * b, 1);
  if (!kernels || size === 0) return hostForward(args as never) as tf.TensorInfo;
  const out = (args.backend as WasmBackendLike).makeOutput([...x.shape], 'float32');
  kernels.rmsNorm(kernels.offsetOf(x), kernels.offsetOf(weight), kernels.offsetOf(out), size / hidden, hidden, eps(args.attrs!));
  return out;
}

/** dx and dweight as separate kernels: frozen norm weights (LoRA) never pay for the column sums. */
const gradient: tf.GradConfig = {
  kernelName: RMS_NORM,
  inputsToSave: ['x', 'weight'],
  gradFunc: (dy, saved, attrs) => {
    const [x, weight] = saved;
    return {
      x: () => tf.engine().runKernel(RMS_NORM_GRAD_X, { x, weight, dy: dy as tf.Tensor }, attrs) as tf.Tensor,
      weight: () => tf.engine().runKernel(RMS_NORM_GRAD_WEIGHT, { x, dy: dy as tf.Tensor }, attrs) as tf.Tensor,
    };
  },
};

export const rmsNormOp: LlamatsOp = {
  kernels: [
    { name: RMS_NORM, cpu: cpuKernelFunc(RMS_NORM, forwardHost), wasm: wasmForward as unknown as tf.KernelFunc, webgpu: webgpuRmsNorm as unknown as tf.KernelFunc },
    { name: RMS_NORM_GRAD_X, cpu: cpuKernelFunc(RMS_NORM_GRAD_X, gradXHost), wasm: wasmKernelFunc(RMS_NORM_GRAD_X, gradXHost), webgpu: webgpuRmsNormGradX as unknown as tf.KernelFunc },
    {
      name: RMS_NORM_GRAD_WEIGHT,
      cpu: cpuKernelFunc(RMS_NORM_GRAD_WEIGHT, gradWeightHost),
      wasm: wasmKernelFunc(RMS_NORM_GRAD_WEIGHT, gradWeightHost),
      webgpu: webgpuRmsNormGradWeight as unknown as tf.KernelFunc,
    },
  ],
  gradients: [gradient],
};
