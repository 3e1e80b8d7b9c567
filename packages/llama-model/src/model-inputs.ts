import * as tf from '@tensorflow/tfjs-core';
import { ShapeMismatchError } from '@llamats/core';

export type IdsInput = readonly (readonly number[])[] | tf.Tensor2D;

/** Ids as an int32 [batch, seq] tensor (owned by the caller's tidy) plus their JS shape; checks ids against the vocabulary. */
export function idsToTensor(ids: IdsInput, vocabSize: number): tf.Tensor2D {
  if (ids instanceof tf.Tensor) {
    if (ids.rank !== 2) throw new ShapeMismatchError(`input_ids must be 2-D [batch, seq], found shape [${ids.shape.join(', ')}].`, { tensor: 'input_ids' });
    return ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32');
  }
  const batch = ids.length;
  const seq = ids[0]?.length ?? 0;
  if (batch === 0 || seq === 0) throw new ShapeMismatchError('input_ids is empty: give at least one row with one token.', { tensor: 'input_ids' });
  const flat = new Int32Array(batch * seq);
  ids.forEach((row, b) => {
    if (row.length !== seq) {
      throw new ShapeMismatchError(`input_ids rows must have one length: row 0 has ${seq} ids, row ${b} has ${row.length} (pad them and pass attentionMask).`, {
        tensor: 'input_ids',
      });
    }
    row.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new ShapeMismatchError(`input_ids[${b}][${t}] is ${id}, outside the vocabulary [0, ${vocabSize}).`, { tensor: 'input_ids' });
      }
      flat[b * seq + t] = id;
    });
  });
  return tf.tensor2d(flat, [batch, seq], 'int32');
}

/** A mask as nested arrays (it is small and shapes the additive mask built on the JS side). */
export function maskToArray(mask: readonly (readonly number[])[] | tf.Tensor2D | undefined | null, batch: number, seq: number): number[][] | null {
  if (mask === undefined || mask === null) return null;
  const rows = mask instanceof tf.Tensor ? (mask.arraySync() as number[][]) : mask.map((r) => [...r]);
  if (rows.length !== batch || rows.some((r) => r.length !== seq)) {
    throw new ShapeMismatchError(`attentionMask must have the shape of input_ids [${batch}, ${seq}], found [${rows.length}, ${rows[0]?.length ?? 0}].`, {
      tensor: 'attention_mask',
      expected: [batch, seq],
      found: [rows.length, rows[0]?.length ?? 0],
    });
  }
  return rows;
}
