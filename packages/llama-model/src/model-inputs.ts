import * as tf from "@tensorflow/tfjs-core";
import { ShapeMismatchError } from "@llamats/core";

export type IdsInput = readonly (readonly number[])[] | tf.Tensor2D;

/** Whether `id` is a token id of a vocabulary of `vocabSize` (an integer in [0, vocabSize)). */
export function isVocabularyId(id: number, vocabSize: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < vocabSize;
}

/** Ids as an int32 [batch, seq] tensor (owned by the caller's tidy) plus their JS shape; checks ids against the vocabulary. */
export function idsToTensor(ids: IdsInput, vocabSize: number): tf.Tensor2D {
  if (ids instanceof tf.Tensor) {
    if (ids.rank !== 2)
      throw new ShapeMismatchError(`input_ids must be 2-D [batch, seq], found shape [${ids.shape.join(", ")}].`, {
        tensor: "input_ids",
      });
    return ids.dtype === "int32" ? ids : tf.cast(ids, "int32");
  }
  const batch = ids.length;
  const seq = ids[0]?.length ?? 0;
  if (batch === 0 || seq === 0)
    throw new ShapeMismatchError("input_ids is empty: give at least one row with one token.", { tensor: "input_ids" });
  const flat = new Int32Array(batch * seq);
  ids.forEach((row, b) => {
    if (row.length !== seq) {
      throw new ShapeMismatchError(
        `input_ids rows must have one length: row 0 has ${seq} ids, row ${b} has ${row.length} (pad them and pass attentionMask).`,
        {
          tensor: "input_ids",
        },
      );
    }
    row.forEach((id, t) => {
      if (!isVocabularyId(id, vocabSize)) {
        throw new ShapeMismatchError(`input_ids[${b}][${t}] is ${id}, outside the vocabulary [0, ${vocabSize}).`, {
          tensor: "input_ids",
        });
      }
      flat[b * seq + t] = id;
    });
  });
  return tf.tensor2d(flat, [batch, seq], "int32");
}

/**
 * A per-token [batch, seq] input (attentionMask, or packed rows' sequenceIds) as nested arrays (small: the additive
 * mask is built on the JS side), or a checked tensor used on the device as it is.
 */
export function checkedMask(
  mask: readonly (readonly number[])[] | tf.Tensor2D | undefined | null,
  batch: number,
  seq: number,
  name: "attentionMask" | "sequenceIds" = "attentionMask",
): number[][] | tf.Tensor2D | null {
  if (mask === undefined || mask === null) return null;
  const found = mask instanceof tf.Tensor ? [...mask.shape] : [mask.length, mask[0]?.length ?? 0];
  const ragged = !(mask instanceof tf.Tensor) && mask.some((r) => r.length !== seq);
  if (found.length !== 2 || found[0] !== batch || found[1] !== seq || ragged) {
    throw new ShapeMismatchError(
      `${name} must have the shape of input_ids [${batch}, ${seq}], found [${found.join(", ")}].`,
      {
        tensor: name === "attentionMask" ? "attention_mask" : "sequence_ids",
        expected: [batch, seq],
        found,
      },
    );
  }
  return mask instanceof tf.Tensor ? mask : mask.map((r) => [...r]);
}
