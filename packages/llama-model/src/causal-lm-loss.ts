import * as tf from "@tensorflow/tfjs-core";
import { IGNORE_INDEX, ShapeMismatchError, softmaxCrossEntropy, ValidationError } from "@llamats/core";

export type LossReduction = "mean" | "sum";

export interface CausalLmLossOptions {
  /** 'mean' over counted tokens (HF's default) or 'sum', for normalising over a whole optimizer step. */
  reduction?: LossReduction;
  ignoreIndex?: number;
}

export type LabelsInput = readonly (readonly number[])[] | tf.Tensor2D;

/**
 * Tokens the causal-LM loss counts: labels[:, 1:] that are not ignoreIndex. Host arrays only: labels that are a
 * tensor stay on the device (causalLmLoss counts them there), and reading them back here would stall a GPU.
 */
export function countLossTokens(
  labels: readonly (readonly number[])[],
  options: { ignoreIndex?: number } = {},
): number {
  if (labels instanceof tf.Tensor) {
    throw new ValidationError(
      "countLossTokens takes labels as number[][]; for a tensor, count on the device: tf.sum(tf.notEqual(labels.slice([0, 1]), ignoreIndex)).",
      {
        location: "labels",
      },
    );
  }
  const ignore = options.ignoreIndex ?? IGNORE_INDEX;
  let count = 0;
  for (const row of labels) for (let t = 1; t < row.length; t++) if (row[t] !== ignore) count++;
  return count;
}

/** Array labels must have the logits' [batch, seq] and ids inside the vocabulary (or ignoreIndex): named by position. */
function checkArrayLabels(
  rows: readonly (readonly number[])[],
  batch: number,
  seq: number,
  vocab: number,
  ignore: number,
): void {
  if (rows.length !== batch || rows.some((r) => r.length !== seq)) {
    const found = [rows.length, rows.find((r) => r.length !== seq)?.length ?? rows[0]?.length ?? 0];
    throw new ShapeMismatchError(`labels must have the shape of input_ids [${batch}, ${seq}], found [${found}].`, {
      tensor: "labels",
      expected: [batch, seq],
      found,
    });
  }
  for (let b = 0; b < batch; b++) {
    for (let t = 1; t < seq; t++) {
      const label = rows[b][t];
      if (label === ignore) continue;
      if (!Number.isInteger(label) || label < 0 || label >= vocab) {
        throw new ShapeMismatchError(`labels[${b}][${t}] is ${label}, outside the vocabulary [0, ${vocab}).`, {
          tensor: "labels",
        });
      }
    }
  }
}

/** Tensor labels are checked by shape only: their values never leave the device (one outside the vocabulary makes the loss NaN). */
function checkTensorLabels(labels: tf.Tensor, batch: number, seq: number): void {
  if (labels.rank !== 2 || labels.shape[0] !== batch || labels.shape[1] !== seq) {
    throw new ShapeMismatchError(
      `labels must have the shape of input_ids [${batch}, ${seq}], found [${labels.shape}].`,
      {
        tensor: "labels",
        expected: [batch, seq],
        found: labels.shape,
      },
    );
  }
}

/**
 * The causal-LM targets of every position, flat [batch * seq] int32 on the device: position t predicts labels[t + 1],
 * the last position of a row predicts nothing (ignoreIndex). What the loss and token accuracy score logits against.
 */
export function shiftLabels(labels: LabelsInput, options: { ignoreIndex?: number } = {}): tf.Tensor1D {
  const ignore = options.ignoreIndex ?? IGNORE_INDEX;
  return tf.tidy(() => {
    const ids =
      labels instanceof tf.Tensor
        ? labels.dtype === "int32"
          ? labels
          : tf.cast(labels, "int32")
        : tf.tensor2d(
            labels.map((r) => [...r]),
            [labels.length, labels[0]?.length ?? 0],
            "int32",
          );
    const [batch, seq] = ids.shape;
    const shifted = tf.concat([tf.slice(ids, [0, 1], [batch, seq - 1]), tf.fill([batch, 1], ignore, "int32")], 1);
    return tf.reshape<tf.Rank.R1>(shifted, [batch * seq]);
  });
}

/**
 * Shifted cross-entropy: logits at t predict labels at t+1; ignoreIndex (-100) is skipped. Mean over counted tokens
 * (NaN when none, as in torch) or their sum. Computed on the device: the labels are shifted there, ignored rows give
 * 0 inside the softmax cross-entropy op, and the count is a tensor, so tensor labels are never read back.
 */
export function causalLmLoss(logits: tf.Tensor3D, labels: LabelsInput, options: CausalLmLossOptions = {}): tf.Scalar {
  const ignore = options.ignoreIndex ?? IGNORE_INDEX;
  const [batch, seq, vocab] = logits.shape;
  if (labels instanceof tf.Tensor) checkTensorLabels(labels, batch, seq);
  else checkArrayLabels(labels, batch, seq, vocab, ignore);
  return tf.tidy(() => {
    const targets = shiftLabels(labels, { ignoreIndex: ignore });
    const nll = softmaxCrossEntropy(tf.reshape<tf.Rank.R2>(logits, [batch * seq, vocab]), targets, {
      ignoreIndex: ignore,
    });
    const total = tf.sum(nll);
    if (options.reduction === "sum") return total as tf.Scalar;
    // 0 / 0 is NaN when no token counts, as torch gives.
    return tf.div<tf.Scalar>(total, tf.sum(tf.cast(tf.notEqual(targets, tf.scalar(ignore, "int32")), "float32")));
  });
}
