import * as tf from "@tensorflow/tfjs-core";

/** WebGPU's usual cap on one storage-buffer binding (2 GiB − 1), when the device does not say. */
const DEFAULT_WEBGPU_BINDING_BYTES = 2 ** 31 - 1;

/**
 * The largest tensor one kernel of the active backend can bind, in bytes: the WebGPU device's
 * maxStorageBufferBindingSize (128 MiB on Mesa's lavapipe, 2 GiB on an H100), unbounded on the CPU backends.
 */
export function maxBindingBytes(): number {
  const backend =
    tf.engine().backendName === "webgpu"
      ? (tf.backend() as { device?: { limits?: { maxStorageBufferBindingSize?: number } } })
      : null;
  if (!backend) return Number.POSITIVE_INFINITY;
  return backend.device?.limits?.maxStorageBufferBindingSize ?? DEFAULT_WEBGPU_BINDING_BYTES;
}
