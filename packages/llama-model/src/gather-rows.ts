import * as tf from "@tensorflow/tfjs-core";

/**
 * table[indices] for a 2-D table and 1-D int32 indices, with a ScatterNd gradient (summing repeated rows):
 * tfjs's own gather gradient needs UnsortedSegmentSum, which the wasm backend lacks.
 */
export function gatherRows(table: tf.Tensor2D, indices: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [source, index] = args as [tf.Tensor2D, tf.Tensor1D];
    const save = args[2] as tf.GradSaveFunc;
    // Saved, not captured: the caller's tidy disposes the indices before the backward pass runs.
    save([index]);
    return {
      value: tf.gather<tf.Tensor2D>(source, index),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor2D;
        return [tf.scatterND(tf.reshape(saved[0], [-1, 1]), g, source.shape), tf.zerosLike(saved[0])];
      },
    };
  });
  return op(table, indices);
}
