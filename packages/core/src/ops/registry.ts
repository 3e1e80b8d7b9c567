import * as tf from "@tensorflow/tfjs-core";
import { adamWOp } from "./adamw.kernels.js";
import { dropoutOp } from "./dropout.kernels.js";
import type { LlamatsOp } from "./kernel-types.js";
import { packedMatMulOp } from "./packed-matmul.kernels.js";
import { matMulOp } from "./matmul.kernels.js";
import { rmsNormOp } from "./rms-norm.kernels.js";
import { ropeOp } from "./rope.kernels.js";
import { softmaxCrossEntropyOp } from "./softmax-cross-entropy.kernels.js";
import { swigluOp } from "./swiglu.kernels.js";

/** The backends llamats' kernels are written for; others (tensorflow) run each op's plain-tfjs reference. */
export const KERNEL_BACKENDS = ["cpu", "wasm", "webgpu"] as const;

// Read when called, not at load: safe whatever order a bundler evaluates the op modules in.
function allOps(): readonly LlamatsOp[] {
  return [softmaxCrossEntropyOp, rmsNormOp, swigluOp, ropeOp, packedMatMulOp, matMulOp, adamWOp, dropoutOp];
}

let registered = false;

/**
 * Registers every llamats kernel for cpu, wasm and webgpu (whether or not those backends have started) and each
 * op's gradient, once. Idempotent, and safe beside another copy of this package that registered them first.
 */
export function ensureLlamatsKernels(): void {
  if (registered) return;
  for (const op of allOps()) {
    for (const kernel of op.kernels) {
      for (const backendName of KERNEL_BACKENDS) {
        if (!tf.getKernel(kernel.name, backendName))
          tf.registerKernel({ kernelName: kernel.name, backendName, kernelFunc: kernel[backendName] });
      }
    }
    for (const gradient of op.gradients) if (!tf.getGradient(gradient.kernelName)) tf.registerGradient(gradient);
  }
  registered = true;
}

/** Whether the active backend runs llamats kernel `name` (false on tensorflow: the op uses tfjs ops there). */
export function hasLlamatsKernel(name: string): boolean {
  ensureLlamatsKernels();
  return tf.getKernel(name, tf.getBackend()) != null;
}
