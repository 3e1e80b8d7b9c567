import type * as tf from "@tensorflow/tfjs-core";

/** One kernel name with its implementation on each backend llamats writes kernels for. */
export interface LlamatsKernel {
  name: string;
  cpu: tf.KernelFunc;
  wasm: tf.KernelFunc;
  webgpu: tf.KernelFunc;
}

/** An op's kernels (forward and backward) and the gradient of its forward kernel, registered once. */
export interface LlamatsOp {
  kernels: LlamatsKernel[];
  gradients: tf.GradConfig[];
}

/** The arguments tfjs passes a kernel function. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}
