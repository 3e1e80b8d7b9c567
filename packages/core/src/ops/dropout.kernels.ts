import * as tf from "@tensorflow/tfjs-core";
import { dropoutKeeps } from "./dropout-mask.js";
import { cpuKernelFunc, wasmKernelFunc, type HostKernel } from "./host-kernel.js";
import type { LlamatsOp } from "./kernel-types.js";
import { webgpuDropout } from "./dropout.webgpu.js";

/** x → x · mask · scale; attrs { seed (uint32), threshold (keep when the hashed 24 bits ≥ it), scale }. */
export const DROPOUT = "LlamatsDropout";

const dropoutHost: HostKernel = {
  inputs: ["x"],
  outputShapes: ({ x }) => [[...x.shape]],
  run: ({ x }, [y], _infos, attrs) => {
    const seed = attrs.seed as number;
    const threshold = attrs.threshold as number;
    const scale = attrs.scale as number;
    // A float32 product of two float32 values: the double product rounds once on the store, as WGSL's f32 does.
    for (let i = 0; i < x.length; i++) y[i] = dropoutKeeps(seed, i, threshold) ? x[i] * scale : 0;
  },
};

/** d(x · mask · scale)/dx is mask · scale: the gradient is the same kernel, same seed, applied to dy. */
const gradient: tf.GradConfig = {
  kernelName: DROPOUT,
  gradFunc: (dy, _saved, attrs) => ({
    x: () => tf.engine().runKernel<tf.Tensor>(DROPOUT, { x: dy as tf.Tensor }, attrs),
  }),
};

export const dropoutOp: LlamatsOp = {
  kernels: [
    {
      name: DROPOUT,
      cpu: cpuKernelFunc(DROPOUT, dropoutHost),
      wasm: wasmKernelFunc(DROPOUT, dropoutHost),
      webgpu: webgpuDropout,
    },
  ],
  gradients: [gradient],
};
