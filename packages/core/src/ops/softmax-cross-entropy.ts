import * as tf from "@tensorflow/tfjs-core";
import { ShapeMismatchError, ValidationError } from "../errors.js";
import { hasLlamatsKernel } from "./registry.js";
import { SOFTMAX_CROSS_ENTROPY } from "./softmax-cross-entropy.kernels.js";

/** The target that marks a row as not counted, as in torch and transformers. */
export const IGNORE_INDEX = -100;

export interface SoftmaxCrossEntropyOptions {
  /** Per-row weights [rows] the losses are multiplied by (differentiable). */
  weights?: tf.Tensor1D;
  /** Rows whose target is this get 0 loss and 0 gradient (default -100). */
  ignoreIndex?: number;
}

function check(logits: tf.Tensor, targets: tf.Tensor, weights: tf.Tensor | undefined): void {
  if (logits.rank !== 2 || logits.dtype !== "float32") {
    throw new ShapeMismatchError(
      `softmaxCrossEntropy: logits must be float32 [rows, vocab], found ${logits.dtype} [${logits.shape}] (reshape to [-1, vocab]).`,
      {
        tensor: "logits",
        found: logits.shape,
      },
    );
  }
  const rows = logits.shape[0];
  if (targets.rank !== 1 || targets.shape[0] !== rows) {
    throw new ShapeMismatchError(
      `softmaxCrossEntropy: targets must be [${rows}] (one per logits row), found [${targets.shape}].`,
      {
        tensor: "targets",
        expected: [rows],
        found: targets.shape,
      },
    );
  }
  if (targets.dtype !== "int32")
    throw new ValidationError(
      `softmaxCrossEntropy: targets must be int32, found ${targets.dtype} (use tf.cast(targets, 'int32')).`,
      { location: "targets" },
    );
  if (weights && (weights.rank !== 1 || weights.shape[0] !== rows)) {
    throw new ShapeMismatchError(`softmaxCrossEntropy: weights must be [${rows}], found [${weights.shape}].`, {
      tensor: "weights",
      expected: [rows],
      found: weights.shape,
    });
  }
}

/**
 * Softmax cross-entropy per row: nll[r] = logsumexp(logits[r]) − logits[r, targets[r]], times weights[r] when given.
 * One llamats kernel on cpu, wasm and webgpu (its gradient, (softmax − onehot) · dy, one more, with no one-hot
 * tensor); rows whose target is the ignore index give 0 loss and 0 gradient, so labels never need reading on the
 * host. A counted target outside [0, vocab) gives NaN (no backend can throw on data it does not read).
 */
export function softmaxCrossEntropy(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  options: SoftmaxCrossEntropyOptions = {},
): tf.Tensor1D {
  check(logits, targets, options.weights);
  const ignoreIndex = options.ignoreIndex ?? IGNORE_INDEX;
  return tf.tidy(() => {
    const nll = hasLlamatsKernel(SOFTMAX_CROSS_ENTROPY)
      ? tf.engine().runKernel<tf.Tensor[]>(SOFTMAX_CROSS_ENTROPY, { logits, targets }, { ignoreIndex })[0]
      : softmaxCrossEntropyReference(logits, targets, ignoreIndex);
    return (options.weights ? tf.mul(nll, options.weights) : nll) as tf.Tensor1D;
  });
}

/** The same loss from plain tfjs ops (with a one-hot): the fallback on backends without llamats kernels, and the tests' reference. */
export function softmaxCrossEntropyReference(
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  ignoreIndex = IGNORE_INDEX,
): tf.Tensor1D {
  return tf.tidy(() => {
    const [rows, vocab] = logits.shape;
    const counted = tf.notEqual(targets, tf.scalar(ignoreIndex, "int32"));
    const known = tf.logicalAnd(
      tf.greaterEqual(targets, tf.scalar(0, "int32")),
      tf.less(targets, tf.scalar(vocab, "int32")),
    );
    const safe = tf.where(known, targets, tf.zerosLike(targets));
    // int32 one-hot, then cast: tfjs-wasm 4.22 writes float32 one-hots with integer bit patterns.
    const onehot = tf.cast(tf.oneHot(safe, vocab), "float32");
    const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), onehot), 1));
    const valued = tf.where(known, nll, tf.fill([rows], Number.NaN));
    return tf.where(counted, valued, tf.zerosLike(nll)) as tf.Tensor1D;
  });
}
