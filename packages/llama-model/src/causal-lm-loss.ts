import * as tf from '@tensorflow/tfjs-core';
import { fusedCrossEntropy, ShapeMismatchError } from '@llamats/core';
import { gatherRows } from './gather-rows.js';

export type LossReduction = 'mean' | 'sum';

export interface CausalLmLossOptions {
  /** 'mean' over counted tokens (HF's default) or 'sum', for normalising over a whole optimizer step. */
  reduction?: LossReduction;
  ignoreIndex?: number;
}

export type LabelsInput = readonly (readonly number[])[] | tf.Tensor2D;

export function labelsToArray(labels: LabelsInput): number[][] {
  return labels instanceof tf.Tensor ? (labels.arraySync() as number[][]) : labels.map((row) => [...row]);
}

/** Tokens the causal-LM loss counts: labels[:, 1:] that are not ignoreIndex. */
export function countLossTokens(labels: LabelsInput, options: { ignoreIndex?: number } = {}): number {
  const ignore = options.ignoreIndex ?? -100;
  let count = 0;
  for (const row of labelsToArray(labels)) for (let t = 1; t < row.length; t++) if (row[t] !== ignore) count++;
  return count;
}

/**
 * Shifted cross-entropy: logits at t predict labels at t+1; ignoreIndex (-100) is skipped.
 * Mean over counted tokens (NaN when none, as in torch) or their sum.
 */
export function causalLmLoss(logits: tf.Tensor3D, labels: LabelsInput, options: CausalLmLossOptions = {}): tf.Scalar {
  const ignore = options.ignoreIndex ?? -100;
  const rows = labelsToArray(labels);
  const [batch, seq, vocab] = logits.shape;
  if (rows.length !== batch || rows.some((r) => r.length !== seq)) {
    throw new ShapeMismatchError(`labels must have the shape of input_ids [${batch}, ${seq}], found [${rows.length}, ${rows[0]?.length ?? 0}].`, {
      tensor: 'labels',
      expected: [batch, seq],
      found: [rows.length, rows[0]?.length ?? 0],
    });
  }
  const positions: number[] = [];
  const flatTargets: number[] = [];
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t + 1 < seq; t++) {
      const label = rows[b][t + 1];
      if (label === ignore) continue;
      if (!Number.isInteger(label) || label < 0 || label >= vocab) {
        throw new ShapeMismatchError(`labels[${b}][${t + 1}] is ${label}, outside the vocabulary [0, ${vocab}).`, { tensor: 'labels' });
      }
      positions.push(b * seq + t);
      flatTargets.push(positions.length - 1);
    }
  }
  return tf.tidy(() => {
    const count = positions.length;
    if (count === 0) return tf.scalar(options.reduction === 'sum' ? 0 : Number.NaN);
    const picked = gatherRows(tf.reshape(logits, [batch * seq, vocab]), tf.tensor1d(positions, 'int32'));
    const labelIds = positions.map((p) => rows[Math.floor(p / seq)][(p % seq) + 1]);
    // One pass per row (and one for its gradient) on llamats' wasm kernels; tfjs ops elsewhere.
    const fused = fusedCrossEntropy(picked as tf.Tensor2D, tf.tensor1d(labelIds, 'int32'));
    const nll = fused
      ? tf.sum(fused)
      : tf.neg(tf.sum(gatherRows(tf.reshape(tf.logSoftmax(picked), [-1, 1]), tf.tensor1d(flatTargets.map((i) => i * vocab + labelIds[i]), 'int32'))));
    return (options.reduction === 'sum' ? nll : tf.div(nll, count)) as tf.Scalar;
  });
}
