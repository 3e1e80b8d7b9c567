import * as tf from '@tensorflow/tfjs-core';

/** The value HF adds at masked positions (float32 min): exp underflows to exactly 0, and no NaN appears. */
export const MASKED = -3.4028234663852886e38;

/**
 * Additive attention mask [batch, 1, queryLen, pastLen + queryLen]: query i (absolute position pastLen + i)
 * sees key j when j <= pastLen + i and attentionMask[b][j] is 1. Returns null when nothing is masked.
 */
export function buildAttentionMask(options: {
  batch: number;
  queryLen: number;
  pastLen: number;
  attentionMask?: readonly (readonly number[])[] | null;
  /** Key slots when the cache has room beyond pastLen + queryLen (a preallocated KV cache): those are masked. */
  keyLen?: number;
}): tf.Tensor4D | null {
  const { batch, queryLen, pastLen, attentionMask } = options;
  const keyLen = options.keyLen ?? pastLen + queryLen;
  const padded = attentionMask?.some((row) => row.some((v, j) => j < keyLen && v === 0)) ?? false;
  if (queryLen === 1 && !padded && keyLen === pastLen + 1) return null;
  const values = new Float32Array(batch * queryLen * keyLen);
  for (let b = 0; b < batch; b++) {
    const row = attentionMask?.[b];
    for (let i = 0; i < queryLen; i++) {
      const offset = (b * queryLen + i) * keyLen;
      for (let j = 0; j < keyLen; j++) {
        const visible = j <= pastLen + i && (!row || row[j] !== 0);
        if (!visible) values[offset + j] = MASKED;
      }
    }
  }
  return tf.tensor4d(values, [batch, 1, queryLen, keyLen]);
}

/** Per-row positions as generation uses them: the count of real tokens before each one (pads get 1, like HF). */
export function positionsFromMask(attentionMask: readonly (readonly number[])[], start: number, length: number): number[][] {
  return attentionMask.map((row) => {
    const positions: number[] = [];
    let seen = 0;
    for (let j = 0; j < start + length; j++) {
      const real = row[j] !== 0;
      if (j >= start) positions.push(real ? seen : 1);
      if (real) seen++;
    }
    return positions;
  });
}
