import { ConfigError, IGNORE_INDEX } from "@llamats/core";

export interface CollateBatchOptions {
  padId: number;
  /** `right` (training default) or `left` (generation). */
  paddingSide?: "right" | "left";
  /** Pad every row to this length instead of the longest row's. */
  padToLength?: number;
  /** Round the padded length up to a multiple (8 suits tensor cores). */
  padToMultipleOf?: number;
}

/** What collation reads of an example: a TokenizedExample, or any ids with labels of the same length. */
export interface CollatableExample {
  readonly input_ids: readonly number[];
  readonly labels: readonly number[];
}

export interface CollatedBatch {
  inputIds: number[][];
  attentionMask: number[][];
  labels: number[][];
}

/** Pads examples into a rectangular batch: pad ids, attention mask 0 and labels -100 on the padding. */
export function collateBatch(examples: readonly CollatableExample[], options: CollateBatchOptions): CollatedBatch {
  const longest = examples.reduce((max, e) => Math.max(max, e.input_ids.length), 0);
  let length = options.padToLength ?? longest;
  if (length < longest)
    throw new ConfigError(`padToLength ${length} is shorter than the longest example (${longest} tokens)`, {
      key: "padToLength",
    });
  const multiple = options.padToMultipleOf ?? 1;
  length = Math.ceil(length / multiple) * multiple;
  const left = options.paddingSide === "left";
  const batch: CollatedBatch = { inputIds: [], attentionMask: [], labels: [] };
  for (const example of examples) {
    const pad = length - example.input_ids.length;
    const padIds = new Array<number>(pad).fill(options.padId);
    const zeros = new Array<number>(pad).fill(0);
    const ignored = new Array<number>(pad).fill(IGNORE_INDEX);
    const ones = new Array<number>(example.input_ids.length).fill(1);
    batch.inputIds.push(left ? [...padIds, ...example.input_ids] : [...example.input_ids, ...padIds]);
    batch.attentionMask.push(left ? [...zeros, ...ones] : [...ones, ...zeros]);
    batch.labels.push(left ? [...ignored, ...example.labels] : [...example.labels, ...ignored]);
  }
  return batch;
}
