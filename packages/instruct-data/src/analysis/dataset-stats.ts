import { isAlpacaRecord, isChatRecord, isTokenizedRecord, type InstructionRecord } from "../dataset/records.js";

export interface LengthSummary {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface DatasetStats {
  records: number;
  kinds: { alpaca: number; chat: number; tokenized: number };
  withInput: number;
  emptyOutput: number;
  /** Exact duplicate instructions (same instruction and input). */
  exactDuplicates: number;
  words: { instruction: LengthSummary; input: LengthSummary; output: LengthSummary } | null;
  /** Tokens per example when token lengths were given. */
  tokens: LengthSummary | null;
  overCutoff: number | null;
}

export function summarizeLengths(values: readonly number[]): LengthSummary {
  if (values.length === 0) return { min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
  return {
    min: sorted[0] as number,
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[sorted.length - 1] as number,
  };
}

const wordCount = (text: string) => text.split(/\s+/).filter((w) => w !== "").length;

/** Counts and length distributions of a dataset; pass `tokenLengths` (and `cutoffLen`) for token statistics. */
export function datasetStats(
  records: readonly InstructionRecord[],
  options: { tokenLengths?: readonly number[]; cutoffLen?: number } = {},
): DatasetStats {
  const alpaca = records.filter(isAlpacaRecord);
  const seen = new Set<string>();
  let exactDuplicates = 0;
  for (const r of alpaca) {
    const key = `${r.instruction}\u0000${r.input}`;
    if (seen.has(key)) exactDuplicates++;
    seen.add(key);
  }
  const tokens = options.tokenLengths ? summarizeLengths(options.tokenLengths) : null;
  return {
    records: records.length,
    kinds: {
      alpaca: alpaca.length,
      chat: records.filter(isChatRecord).length,
      tokenized: records.filter(isTokenizedRecord).length,
    },
    withInput: alpaca.filter((r) => r.input !== "").length,
    emptyOutput: alpaca.filter((r) => r.output.trim() === "").length,
    exactDuplicates,
    words:
      alpaca.length === 0
        ? null
        : {
            instruction: summarizeLengths(alpaca.map((r) => wordCount(r.instruction))),
            input: summarizeLengths(alpaca.map((r) => wordCount(r.input))),
            output: summarizeLengths(alpaca.map((r) => wordCount(r.output))),
          },
    tokens,
    overCutoff:
      options.tokenLengths && options.cutoffLen !== undefined
        ? options.tokenLengths.filter((n) => n > (options.cutoffLen as number)).length
        : null,
  };
}
