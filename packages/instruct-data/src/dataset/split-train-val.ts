import { ConfigError } from "@llamats/core";
import { seededRandom, shuffled } from "../util/seeded-random.js";

export interface SplitTrainValOptions {
  /** A count (≥ 1) or a fraction of the records (0 < x < 1); 0 gives no validation set. */
  valSetSize: number;
  seed?: number;
}

/** Seeded shuffle, then the first `valSetSize` records are the validation set (as alpaca-lora's train_test_split). */
export function splitTrainVal<T>(records: readonly T[], options: SplitTrainValOptions): { train: T[]; val: T[] } {
  const { valSetSize } = options;
  if (!Number.isFinite(valSetSize) || valSetSize < 0 || (valSetSize >= 1 && !Number.isInteger(valSetSize))) {
    throw new ConfigError(`valSetSize must be a count or a fraction in (0, 1), found ${valSetSize}`, {
      key: "valSetSize",
    });
  }
  const count = valSetSize < 1 ? Math.round(valSetSize * records.length) : valSetSize;
  if (count === 0) return { train: records.slice(), val: [] };
  if (count >= records.length) {
    throw new ConfigError(`valSetSize ${valSetSize} leaves no training records out of ${records.length}`, {
      key: "valSetSize",
    });
  }
  const order = shuffled(records, seededRandom(options.seed ?? 42));
  return { val: order.slice(0, count), train: order.slice(count) };
}
