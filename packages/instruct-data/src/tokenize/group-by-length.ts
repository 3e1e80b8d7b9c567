import { ConfigError } from "@llamats/core";
import { seededRandom, shuffled } from "../util/seeded-random.js";

export interface GroupByLengthOptions {
  batchSize: number;
  seed?: number;
  /** Examples sorted together: batchSize × this (HF's LengthGroupedSampler uses 50). */
  megaBatchMultiplier?: number;
}

/**
 * Batches of example indices with similar lengths, so little padding is wasted, in a seeded random order
 * (as HF's group_by_length): shuffle, cut into mega-batches, sort each by length, split into batches.
 * The batch holding the longest example comes first, so running out of memory shows at once.
 */
export function groupByLength(lengths: readonly number[], options: GroupByLengthOptions): number[][] {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConfigError(`batchSize must be a positive integer, found ${batchSize}`, { key: "batchSize" });
  const megaSize = batchSize * (options.megaBatchMultiplier ?? 50);
  const order = shuffled(
    lengths.map((_, i) => i),
    seededRandom(options.seed ?? 42),
  );
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += megaSize) {
    const mega = order.slice(start, start + megaSize).sort((a, b) => (lengths[b] as number) - (lengths[a] as number));
    for (let b = 0; b < mega.length; b += batchSize) batches.push(mega.slice(b, b + batchSize));
  }
  let longest = 0;
  batches.forEach((batch, i) => {
    if ((lengths[batch[0] as number] as number) > (lengths[(batches[longest] as number[])[0] as number] as number))
      longest = i;
  });
  if (longest > 0) [batches[0], batches[longest]] = [batches[longest] as number[], batches[0] as number[]];
  return batches;
}
