import * as tf from "@tensorflow/tfjs-core";
import type { LlamatsOp } from "./kernel-types.js";
import { KERNEL_BACKENDS } from "./registry.js";

/**
 * Registers one op's kernels for cpu, wasm and webgpu and its gradients, skipping any already there (another copy
 * of this package may have registered them): what ensureLlamatsKernels does for the ops it lists.
 */
export function registerLlamatsOp(op: LlamatsOp): void {
  for (const kernel of op.kernels) {
    for (const backendName of KERNEL_BACKENDS) {
      if (!tf.getKernel(kernel.name, backendName))
        tf.registerKernel({ kernelName: kernel.name, backendName, kernelFunc: kernel[backendName] });
    }
  }
  for (const gradient of op.gradients) if (!tf.getGradient(gradient.kernelName)) tf.registerGradient(gradient);
}
