import * as tf from "@tensorflow/tfjs-core";

/** The value HF adds at masked positions (float32 min): exp underflows to exactly 0, and no NaN appears. */
export const MASKED = -3.4028234663852886e38;

/**
 * Additive attention mask [batch, 1, queryLen, pastLen + queryLen]: query i (absolute position pastLen + i)
 * sees key j when j <= pastLen + i, attentionMask[b][j] is 1 and (packed rows) sequenceIds[b][j] is the query's
 * own, so attention stays inside each packed example (a block-diagonal causal mask); it always sees itself: a
 * padding query with every key masked would make a softmax of equal minima, which some GPU kernels turn into NaN
 * that then reaches real tokens through 0·NaN (HF unmasks such rows for SDPA for the same reason). Returns null when
 * nothing is masked.
 */
export function buildAttentionMask(options: {
  batch: number;
  queryLen: number;
  pastLen: number;
  /** 1 for real tokens, 0 for padding, per key; a tensor is used on the device without being read back. */
  attentionMask?: readonly (readonly number[])[] | tf.Tensor2D | null;
  /** Key slots when the cache has room beyond pastLen + queryLen (a preallocated KV cache): those are masked. */
  keyLen?: number;
  /** Packed rows: which example each key belongs to, [batch, pastLen + queryLen]; a tensor stays on the device. */
  sequenceIds?: readonly (readonly number[])[] | tf.Tensor2D | null;
}): tf.Tensor4D | null {
  const { batch, queryLen, pastLen, attentionMask } = options;
  const keyLen = options.keyLen ?? pastLen + queryLen;
  const sequenceIds = options.sequenceIds ?? null;
  if (attentionMask instanceof tf.Tensor || sequenceIds instanceof tf.Tensor) {
    return maskOnDevice(attentionMask ?? null, sequenceIds, { batch, queryLen, pastLen, keyLen });
  }
  const padded = attentionMask?.some((row) => row.some((v, j) => j < keyLen && v === 0)) ?? false;
  if (queryLen === 1 && !padded && !sequenceIds && keyLen === pastLen + 1) return null;
  const values = new Float32Array(batch * queryLen * keyLen);
  for (let b = 0; b < batch; b++) {
    const row = attentionMask?.[b];
    const ids = sequenceIds?.[b];
    for (let i = 0; i < queryLen; i++) {
      const offset = (b * queryLen + i) * keyLen;
      for (let j = 0; j < keyLen; j++) {
        const sameExample = !ids || ids[j] === ids[pastLen + i];
        const visible = j === pastLen + i || (j < pastLen + i && (!row || row[j] !== 0) && sameExample);
        if (!visible) values[offset + j] = MASKED;
      }
    }
  }
  return tf.tensor4d(values, [batch, 1, queryLen, keyLen]);
}

/** The same additive mask from [batch, keyLen] tensors (or arrays), built with tensor ops (no readback). */
function maskOnDevice(
  attentionMask: readonly (readonly number[])[] | tf.Tensor2D | null,
  sequenceIds: readonly (readonly number[])[] | tf.Tensor2D | null,
  shape: { batch: number; queryLen: number; pastLen: number; keyLen: number },
): tf.Tensor4D {
  const { batch, queryLen, pastLen, keyLen } = shape;
  return tf.tidy(() => {
    // Operands of one shape: tfjs-wasm's broadcasting comparisons are ~30× slower than same-shape ones.
    const grid: [number, number, number, number] = [batch, 1, queryLen, keyLen];
    const keys = tf.broadcastTo(tf.reshape(tf.range(0, keyLen, 1, "int32"), [1, 1, 1, keyLen]), grid);
    const queries = tf.broadcastTo(
      tf.reshape(tf.range(pastLen, pastLen + queryLen, 1, "int32"), [1, 1, queryLen, 1]),
      grid,
    );
    // Per key as [batch, 1, 1, keyLen], or per query as [batch, 1, queryLen, 1], spread over the grid.
    const spread = (
      values: readonly (readonly number[])[] | tf.Tensor2D,
      from: number,
      length: number,
      axis: 2 | 3,
    ) => {
      const table =
        values instanceof tf.Tensor
          ? values
          : tf.tensor2d(
              values.map((r) => [...r]),
              undefined,
              "int32",
            );
      const sliced = tf.slice(table, [0, from], [batch, length]);
      const part = sliced.dtype === "int32" ? sliced : tf.cast(sliced, "int32");
      return tf.broadcastTo(tf.reshape(part, axis === 3 ? [batch, 1, 1, length] : [batch, 1, length, 1]), grid);
    };
    let visible = tf.lessEqual(keys, queries);
    if (attentionMask)
      visible = tf.logicalAnd(visible, tf.notEqual(spread(attentionMask, 0, keyLen, 3), tf.zeros(grid, "int32")));
    if (sequenceIds) {
      const sameExample = tf.equal(spread(sequenceIds, 0, keyLen, 3), spread(sequenceIds, pastLen, queryLen, 2));
      visible = tf.logicalAnd(visible, sameExample);
    }
    visible = tf.logicalOr(tf.equal(keys, queries), visible);
    const shape: [number, number, number, number] = [batch, 1, queryLen, keyLen];
    return tf.where<tf.Tensor4D>(visible, tf.zeros(shape), tf.fill(shape, MASKED));
  });
}

/** Per-row positions as generation uses them: the count of real tokens before each one (pads get 1, like HF). */
export function positionsFromMask(
  attentionMask: readonly (readonly number[])[],
  start: number,
  length: number,
): number[][] {
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
