import { ConfigError, IGNORE_INDEX } from "@llamats/core";
import type { TokenizedExample } from "./tokenize-for-training.js";

/**
 * Several examples in one row. Give `sequenceIds` and `positionIds` to the model's forward (@llamats/llama-model):
 * it builds the block-diagonal causal mask, so attention stays inside each example.
 */
export interface PackedRow extends TokenizedExample {
  /** Which example (0, 1, 2 … within the row) each token belongs to. */
  sequenceIds: number[];
  /** Positions restart at 0 for each example, as if it were alone. */
  positionIds: number[];
  /** Indices of the packed examples in the input list, in row order. */
  exampleIndices: number[];
}

export interface PackExamplesOptions {
  /** Longest packed row in tokens. */
  maxLength: number;
  /**
   * `first-fit-decreasing` (default): longest examples first, each into the first row with room — fewer rows.
   * `sequential`: keep order, open a new row when the next example does not fit.
   */
  strategy?: "first-fit-decreasing" | "sequential";
}

/**
 * Packs short examples into rows of at most `maxLength` tokens. The first token of each example is never a
 * target (it would be predicted from the previous example), so its label is -100.
 */
export function packExamples(examples: readonly TokenizedExample[], options: PackExamplesOptions): PackedRow[] {
  const { maxLength } = options;
  if (!Number.isInteger(maxLength) || maxLength < 1)
    throw new ConfigError(`maxLength must be a positive integer, found ${maxLength}`, { key: "maxLength" });
  examples.forEach((e, i) => {
    if (e.input_ids.length > maxLength)
      throw new ConfigError(
        `Example ${i} has ${e.input_ids.length} tokens, more than maxLength ${maxLength}; cut it first`,
        { key: "maxLength" },
      );
  });
  const order = examples.map((_, i) => i);
  if ((options.strategy ?? "first-fit-decreasing") === "first-fit-decreasing") {
    order.sort(
      (a, b) =>
        (examples[b] as TokenizedExample).input_ids.length - (examples[a] as TokenizedExample).input_ids.length ||
        a - b,
    );
  }
  const bins: { used: number; members: number[] }[] = [];
  for (const index of order) {
    const size = (examples[index] as TokenizedExample).input_ids.length;
    const bin =
      options.strategy === "sequential"
        ? bins.length > 0 && (bins[bins.length - 1] as { used: number }).used + size <= maxLength
          ? bins[bins.length - 1]
          : undefined
        : bins.find((b) => b.used + size <= maxLength);
    if (bin) {
      bin.used += size;
      bin.members.push(index);
    } else {
      bins.push({ used: size, members: [index] });
    }
  }
  return bins.map(({ members }) => {
    const row: PackedRow = { input_ids: [], labels: [], sequenceIds: [], positionIds: [], exampleIndices: members };
    members.forEach((index, k) => {
      const example = examples[index] as TokenizedExample;
      row.input_ids.push(...example.input_ids);
      row.labels.push(k > 0 ? IGNORE_INDEX : (example.labels[0] as number), ...example.labels.slice(1));
      for (let t = 0; t < example.input_ids.length; t++) {
        row.sequenceIds.push(k);
        row.positionIds.push(t);
      }
    });
    return row;
  });
}
