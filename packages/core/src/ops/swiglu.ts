import * as tf from "@tensorflow/tfjs-core";
import { ShapeMismatchError } from "../errors.js";
import { hasLlamatsKernel } from "./registry.js";
import { SWIGLU } from "./swiglu.kernels.js";

/**
 * SwiGLU's gating: silu(gate) · up = gate · sigmoid(gate) · up, for float32 tensors of one shape. One llamats kernel
 * on cpu, wasm and webgpu; its gradient one kernel for dgate and one for dup.
 */
export function swiglu(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  if (gate.dtype !== "float32" || up.dtype !== "float32" || !tf.util.arraysEqual(gate.shape, up.shape)) {
    throw new ShapeMismatchError(
      `swiglu: gate and up must be float32 tensors of one shape, found ${gate.dtype} [${gate.shape}] and ${up.dtype} [${up.shape}].`,
      {
        tensor: "up",
        expected: gate.shape,
        found: up.shape,
      },
    );
  }
  if (!hasLlamatsKernel(SWIGLU)) return swigluReference(gate, up);
  return tf.engine().runKernel<tf.Tensor>(SWIGLU, { gate, up });
}

/** The same from plain tfjs ops: the fallback on backends without llamats kernels, and the tests' reference. */
export function swigluReference(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up));
}
