import * as tf from "@tensorflow/tfjs-core";

/**
 * x [n, in] · Wᵀ → [n, out] with gradients written as untransposed matmuls (dX = dY·W, dW = transpose(dY)·X): a tall
 * transposed-A product (dW of a 32k-row head) runs ~1.8× slower than transpose + matmul on llamats' wasm gemm.
 * dW is computed only for a trainable variable (customGrad returns every input's gradient).
 */
export function denseMatMul(x: tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D {
  const weightNeedsGrad = !(weight instanceof tf.Variable) || weight.trainable;
  if (weightNeedsGrad) {
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, w] = args as [tf.Tensor2D, tf.Tensor2D];
      const save = args[2] as tf.GradSaveFunc;
      save([input, w]);
      return {
        value: tf.matMul(input, w, false, true),
        gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
          const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor2D;
          const [savedX, savedW] = saved as [tf.Tensor2D, tf.Tensor2D];
          return [tf.matMul(g, savedW), tf.matMul(tf.transpose(g), savedX)];
        },
      };
    });
    return op(x, weight) as tf.Tensor2D;
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor2D;
    return {
      value: tf.matMul(input, weight, false, true),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [tf.matMul(Array.isArray(dy) ? dy[0] : dy, weight)],
    };
  });
  return op(x) as tf.Tensor2D;
}
