import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "@llamats/core";
import {
  dedupByRouge,
  isAlpacaRecord,
  loadInstructionDataset,
  rougeL,
  syntheticInstructions,
  type RougeTokenizerName,
} from "@llamats/instruct-data";
import type { CommandContext } from "../command.js";

const DEDUP_BENCH_USAGE = `llamats bench dedup [--count 10000] [--data F] [--threshold 0.7] [--rouge-tokenizer rouge-score|unicode] [--seed S] [--json]

ROUGE-L dedup of instructions against each other, as self-instruct's filter (greedy, > threshold rejected).
Uses --data's instructions when given, else --count seeded synthetic instructions.`;

/** `llamats bench dedup`: times the greedy ROUGE-L dedup of N instructions (the original needs a 16-process pool). */
export async function runDedupBench(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      count: { type: "string" },
      data: { type: "string" },
      threshold: { type: "string" },
      "rouge-tokenizer": { type: "string" },
      seed: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) {
    ctx.stdout.write(DEDUP_BENCH_USAGE + "\n");
    return 0;
  }
  const threshold = values.threshold !== undefined ? Number(values.threshold) : 0.7;
  if (!(threshold > 0 && threshold <= 1))
    throw new ConfigError(`--threshold must be in (0, 1], found ${values.threshold}`, { key: "threshold" });
  const tokenizer = (values["rouge-tokenizer"] ?? "rouge-score") as RougeTokenizerName;
  if (tokenizer !== "rouge-score" && tokenizer !== "unicode")
    throw new ConfigError("--rouge-tokenizer must be rouge-score or unicode", { key: "rouge-tokenizer" });
  let texts: string[];
  if (values.data) {
    const { records } = await loadInstructionDataset({ path: resolve(ctx.cwd, values.data), skipInvalid: true });
    texts = records.filter(isAlpacaRecord).map((r) => r.instruction);
    if (values.count) texts = texts.slice(0, Number(values.count));
  } else {
    texts = syntheticInstructions({
      count: values.count ? Number(values.count) : 10_000,
      seed: values.seed ? Number(values.seed) : 1,
    });
  }
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const result = dedupByRouge(texts, { threshold, tokenizer, signal: ctx.signal });
  const seconds = (performance.now() - start) / 1000;
  // CPU time too: on a shared machine the wall clock also counts other people's work.
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // A spot check that a reported duplicate really scores above the bar.
  const sample = result.duplicates[0];
  const verified = sample
    ? rougeL(texts[sample.index], sample.duplicateOf, { tokenizer }).fmeasure === sample.score
    : true;
  const summary = {
    instructions: texts.length,
    kept: result.kept.length,
    duplicates: result.duplicates.length,
    seconds,
    cpuSeconds,
    instructionsPerSecond: texts.length / seconds,
    threshold,
    tokenizer,
    verified,
  };
  if (values.json) ctx.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    ctx.stdout.write(
      `dedup ${texts.length} instructions (ROUGE-L > ${threshold}, ${tokenizer} tokenizer): ${seconds.toFixed(2)} s (${cpuSeconds.toFixed(2)} s CPU), ` +
        `${Math.round(summary.instructionsPerSecond)} instructions/s; kept ${result.kept.length}, near-duplicates ${result.duplicates.length}\n`,
    );
  }
  return verified ? 0 : 1;
}
