import type * as tf from "@tensorflow/tfjs-core";

/** The first value of a tensor, read asynchronously (the only way on WebGPU), then disposes the tensor. */
export async function readScalar(tensor: tf.Tensor): Promise<number> {
  try {
    return (await tensor.data())[0];
  } finally {
    tensor.dispose();
  }
}
