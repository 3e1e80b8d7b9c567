import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "@llamats/core";

/** One optimizer step's line of metrics.jsonl. */
export interface StepMetrics {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  grad_norm: number;
  /** Counted target tokens of the step (the loss's denominator). */
  tokens: number;
  /** Real input tokens processed by the step (throughput counts these). */
  input_tokens: number;
  tokens_per_s: number;
  elapsed_s: number;
}

/** An evaluation's line of metrics.jsonl. */
export interface EvalMetrics {
  step: number;
  eval: true;
  loss: number;
  perplexity: number;
  tokens: number;
}

export type MetricsEntry = StepMetrics | EvalMetrics;

export function isEvalMetrics(entry: MetricsEntry): entry is EvalMetrics {
  return (entry as EvalMetrics).eval === true;
}

/**
 * `<out>/metrics.jsonl`, one JSON object a line. The whole file is rewritten atomically on each
 * append, so a crash leaves the previous complete file, never a torn line.
 */
export class MetricsLog {
  private readonly entries: MetricsEntry[] = [];

  constructor(
    readonly path: string,
    history: readonly MetricsEntry[] = [],
  ) {
    this.entries.push(...history);
  }

  get all(): readonly MetricsEntry[] {
    return this.entries;
  }

  async append(entry: MetricsEntry): Promise<void> {
    this.entries.push(entry);
    await this.flush();
  }

  async flush(): Promise<void> {
    await writeFileAtomic(
      this.path,
      this.entries.map((e) => JSON.stringify(e)).join("\n") + (this.entries.length ? "\n" : ""),
    );
  }
}

/** Reads a metrics.jsonl back (for tools and tests). */
export async function readMetricsLog(path: string): Promise<MetricsEntry[]> {
  const text = await readFile(path, "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as MetricsEntry);
}
