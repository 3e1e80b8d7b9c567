import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, writeFileAtomic } from "@llamats/core";
import {
  analyzeVerbNoun,
  clusterInstructions,
  datasetStats,
  dedupByRouge,
  formatClusterReport,
  formatInvalidReport,
  generateInstructions,
  getTemplate,
  isAlpacaRecord,
  isChatRecord,
  loadInstructionDataset,
  tokenizeForTraining,
  verbNounSunburstSvg,
  type AlpacaRecord,
  type DatasetFormat,
  type InstructionRecord,
  type RougeTokenizerName,
  type TokenizationMode,
} from "@llamats/instruct-data";
import { loadTokenizer } from "@llamats/tokenizer";
import type { Command, CommandContext } from "../command.js";

const USAGE = `llamats data <subcommand> [options]

Instruction data: make it, check it, look at it, tokenize it.

Subcommands:
  generate   Self-instruct generation from seed tasks with a teacher model (Stanford Alpaca's method)
  validate   Check every record; exits 1 naming each bad line (file:line or file[index], field, problem)
  stats      Counts, lengths, duplicates (and token lengths with --tokenizer)
  analyze    Verb–noun analysis of the instructions, drawn as a sunburst SVG
  cluster    Task clusters (TF-IDF + k-means) as JSON and a readable report
  format     Tokenize for training: writes {input_ids, labels} JSON lines

Common options:
  --data F              dataset file (.json / .jsonl / .parquet / .csv / .tsv), folder, or Hub dataset repo (org/name)
  --split S             split of a folder or Hub repo (default train), by the Hub's file naming:
                        data/train-00000-of-00001-….parquet, train/…, train.jsonl; no split names = all train
  --data-files G,…      files of a folder or Hub repo to read instead of a split: paths or globs (* crosses folders)
  --format F            auto | alpaca | jsonl | koalpaca | chat | tokenized (default auto)
  --skip-invalid        keep the valid records, report the rest (default: stop on any invalid record)
  --revision R, --offline   for Hub datasets

generate:
  --base-url U          OpenAI-compatible server (https://api.openai.com, http://127.0.0.1:8000 for llamats serve)
  --model M             teacher model name
  --api-key K           or the OPENAI_API_KEY environment variable
  --seed-tasks F        seed tasks (self-instruct JSONL: instruction + instances, or any dataset format)
  --num-instructions N  stop when the output holds N instructions (an existing output is resumed)
  --out F               output: .jsonl (one line per instruction) or .json (a JSON array like regen.json)
  --request-batch-size B  prompts in flight together (default 5)
  --concurrency C       requests in flight (default: the batch size)
  --num-cpus N          accepted for compatibility; dedup here needs no process pool
  --api chat|completions   route (default chat)
  --prompt F            request text (default Stanford Alpaca's prompt.txt)
  --temperature T, --top-p P, --max-tokens N, --seed S
  --rouge-tokenizer rouge-score|unicode   unicode dedups Korean and other scripts too
  --allow-non-ascii     keep instructions that start with a non-ASCII letter (needed for Korean)
  --price-prompt D, --price-completion D  US$ per million tokens, for the cost count
  --timeout S, --max-retries N

stats:     [--tokenizer T --template NAME --cutoff-len N] [--near-duplicates [--threshold 0.7] [--rouge-tokenizer …]] [--json]
analyze:   --out chart.svg [--top-verbs 20] [--top-nouns 4]
cluster:   [--k N|auto] --out clusters.json [--report clusters.md] [--seed S]
format:    --tokenizer T --template NAME --cutoff-len N [--train-on-inputs] [--tokenization joint|segmented] [--no-eos] --out tokenized.jsonl
           (templates: alpaca, alpaca_legacy, stanford_alpaca, alpaca_short, vigogne, koalpaca, chat, or a .json file)`;

const COMMON = {
  data: { type: "string" },
  format: { type: "string" },
  "skip-invalid": { type: "boolean" },
  revision: { type: "string" },
  offline: { type: "boolean" },
  split: { type: "string" },
  "data-files": { type: "string" },
} as const;

const DATA_FORMATS = ["auto", "alpaca", "jsonl", "koalpaca", "chat", "tokenized"];

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new ConfigError(`--${flag} is required`, { key: flag });
  return value;
}

function integer(value: string | undefined, flag: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new ConfigError(`--${flag} is required`, { key: flag });
    return fallback;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`--${flag} must be a non-negative integer, found "${value}"`, { key: flag });
  return n;
}

function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new ConfigError(`--${flag} must be a number, found "${value}"`, { key: flag });
  return n;
}

function oneOf<T extends string>(value: string | undefined, flag: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value))
    throw new ConfigError(`--${flag} must be one of ${choices.join(", ")}, found "${value}"`, { key: flag });
  return value as T;
}

// A path that exists is local; otherwise "org/name" is a Hub dataset repo.
function dataSource(data: string, cwd: string): { path: string } | { repo: string } {
  const local = resolve(cwd, data);
  const looksLikeRepo = /^[\w.-]+\/[\w.-]+$/.test(data) && !/\.(jsonl?|ndjson|parquet|csv|tsv)$/i.test(data);
  return looksLikeRepo && !existsSync(local) ? { repo: data } : { path: local };
}

// --split and --data-files "a,b/*.parquet" as loadInstructionDataset takes them.
function fileChoice(values: { split?: string; "data-files"?: string }): { split?: string; dataFiles?: string[] } {
  const dataFiles = values["data-files"]
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return { split: values.split, dataFiles: dataFiles?.length ? dataFiles : undefined };
}

interface LoadedForCli {
  records: InstructionRecord[];
  format: DatasetFormat;
  invalidCount: number;
}

type DataValues = {
  data?: string;
  format?: string;
  "skip-invalid"?: boolean;
  revision?: string;
  offline?: boolean;
  split?: string;
  "data-files"?: string;
};

async function loadForCli(values: DataValues, ctx: CommandContext): Promise<LoadedForCli> {
  const source = dataSource(required(values.data, "data"), ctx.cwd);
  const format = oneOf(values.format, "format", DATA_FORMATS, "auto") as DatasetFormat | "auto";
  const loaded = await loadInstructionDataset({
    ...source,
    ...fileChoice(values),
    format,
    skipInvalid: values["skip-invalid"],
    revision: values.revision,
    offline: values.offline,
    signal: ctx.signal,
  });
  if (loaded.invalid.length > 0) {
    for (const report of loaded.invalid.slice(0, 20)) ctx.stderr.write(`skipped ${formatInvalidReport(report)}\n`);
    if (loaded.invalid.length > 20) ctx.stderr.write(`… and ${loaded.invalid.length - 20} more\n`);
    ctx.stderr.write(`kept ${loaded.records.length} valid records, skipped ${loaded.invalid.length} invalid\n`);
  }
  return { records: loaded.records, format: loaded.format, invalidCount: loaded.invalid.length };
}

function instructionsOf(records: readonly InstructionRecord[]): string[] {
  return records.flatMap((r) =>
    isAlpacaRecord(r)
      ? [r.instruction]
      : isChatRecord(r)
        ? r.messages
            .filter((m) => m.role === "user")
            .slice(0, 1)
            .map((m) => m.content)
        : [],
  );
}

async function runValidate(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({ args, options: { ...COMMON }, strict: true });
  const source = dataSource(required(values.data, "data"), ctx.cwd);
  const format = oneOf(values.format, "format", DATA_FORMATS, "auto") as DatasetFormat | "auto";
  const loaded = await loadInstructionDataset({
    ...source,
    ...fileChoice(values),
    format,
    skipInvalid: true,
    revision: values.revision,
    offline: values.offline,
    signal: ctx.signal,
  });
  for (const report of loaded.invalid) ctx.stderr.write(`${formatInvalidReport(report)}\n`);
  const summary = `${loaded.records.length} valid, ${loaded.invalid.length} invalid (format ${loaded.format}, ${loaded.files.length} file${loaded.files.length === 1 ? "" : "s"})\n`;
  if (loaded.invalid.length > 0) {
    ctx.stderr.write(summary);
    return 1;
  }
  ctx.stdout.write(summary);
  return 0;
}

async function runFormat(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...COMMON,
      tokenizer: { type: "string" },
      template: { type: "string" },
      "cutoff-len": { type: "string" },
      "train-on-inputs": { type: "boolean" },
      tokenization: { type: "string" },
      "no-eos": { type: "boolean" },
      out: { type: "string" },
    },
    strict: true,
  });
  const out = resolve(ctx.cwd, required(values.out, "out"));
  const cutoffLen = integer(values["cutoff-len"], "cutoff-len");
  const tokenization = oneOf<TokenizationMode>(values.tokenization, "tokenization", ["joint", "segmented"], "joint");
  const template = getTemplate(values.template ?? "alpaca");
  const tokenizer = await loadTokenizer(required(values.tokenizer, "tokenizer"), {
    revision: values.revision,
    offline: values.offline,
  });
  const { records } = await loadForCli(values, ctx);
  const lines: string[] = [];
  let cut = 0;
  for (const record of records) {
    const example = tokenizeForTraining(record, {
      tokenizer,
      template,
      cutoffLen,
      trainOnInputs: values["train-on-inputs"],
      tokenization,
      addEos: !values["no-eos"],
    });
    if (example.input_ids.length === cutoffLen) cut++;
    lines.push(JSON.stringify({ input_ids: example.input_ids, labels: example.labels }));
  }
  await writeFileAtomic(out, lines.length > 0 ? `${lines.join("\n")}\n` : "");
  ctx.stdout.write(
    `wrote ${lines.length} examples to ${out} (${cut} reached cutoff ${cutoffLen}; template ${template.name}, ${tokenization})\n`,
  );
  return 0;
}

async function runStats(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...COMMON,
      tokenizer: { type: "string" },
      template: { type: "string" },
      "cutoff-len": { type: "string" },
      "near-duplicates": { type: "boolean" },
      threshold: { type: "string" },
      "rouge-tokenizer": { type: "string" },
      json: { type: "boolean" },
    },
    strict: true,
  });
  const { records, format } = await loadForCli(values, ctx);
  let tokenLengths: number[] | undefined;
  const cutoffLen = values["cutoff-len"] !== undefined ? integer(values["cutoff-len"], "cutoff-len") : undefined;
  if (values.tokenizer) {
    const tokenizer = await loadTokenizer(values.tokenizer, { revision: values.revision, offline: values.offline });
    const template = getTemplate(values.template ?? "alpaca");
    // Measured uncut, so the count over the cutoff is real.
    tokenLengths = records.map(
      (r) => tokenizeForTraining(r, { tokenizer, template, cutoffLen: Number.MAX_SAFE_INTEGER }).input_ids.length,
    );
  }
  const stats = datasetStats(records, { tokenLengths, cutoffLen });
  let nearDuplicates: { index: number; instruction: string; duplicateOf: string; score: number }[] | undefined;
  if (values["near-duplicates"]) {
    const instructions = instructionsOf(records);
    const result = dedupByRouge(instructions, {
      threshold: number(values.threshold, "threshold") ?? 0.7,
      tokenizer: oneOf<RougeTokenizerName>(
        values["rouge-tokenizer"],
        "rouge-tokenizer",
        ["rouge-score", "unicode"],
        "rouge-score",
      ),
      signal: ctx.signal,
    });
    nearDuplicates = result.duplicates.map((d) => ({
      index: d.index,
      instruction: instructions[d.index],
      duplicateOf: d.duplicateOf,
      score: d.score,
    }));
  }
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ format, ...stats, nearDuplicates }, null, 2)}\n`);
    return 0;
  }
  const f = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
  const lengths = (
    name: string,
    s: { min: number; mean: number; p50: number; p90: number; p99: number; max: number },
  ) =>
    `${name.padEnd(12)} min ${f(s.min)}  mean ${f(s.mean)}  p50 ${f(s.p50)}  p90 ${f(s.p90)}  p99 ${f(s.p99)}  max ${f(s.max)}\n`;
  ctx.stdout.write(
    `records      ${stats.records} (format ${format}; alpaca ${stats.kinds.alpaca}, chat ${stats.kinds.chat}, tokenized ${stats.kinds.tokenized})\n`,
  );
  ctx.stdout.write(
    `with input   ${stats.withInput}\nempty output ${stats.emptyOutput}\nexact dups   ${stats.exactDuplicates}\n`,
  );
  if (stats.words) {
    ctx.stdout.write("words:\n");
    ctx.stdout.write(
      lengths("  instruction", stats.words.instruction) +
        lengths("  input", stats.words.input) +
        lengths("  output", stats.words.output),
    );
  }
  if (stats.tokens) ctx.stdout.write(lengths("tokens", stats.tokens));
  if (stats.overCutoff !== null)
    ctx.stdout.write(`over cutoff  ${stats.overCutoff} of ${stats.records} longer than ${cutoffLen} tokens\n`);
  if (nearDuplicates) {
    ctx.stdout.write(`near-duplicates (ROUGE-L > ${values.threshold ?? 0.7}): ${nearDuplicates.length}\n`);
    for (const d of nearDuplicates.slice(0, 20))
      ctx.stdout.write(
        `  #${d.index} ${d.score.toFixed(3)}  ${d.instruction.slice(0, 70)}  ≈  ${d.duplicateOf.slice(0, 70)}\n`,
      );
  }
  return 0;
}

async function runAnalyze(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...COMMON, out: { type: "string" }, "top-verbs": { type: "string" }, "top-nouns": { type: "string" } },
    strict: true,
  });
  const out = resolve(ctx.cwd, required(values.out, "out"));
  const { records } = await loadForCli(values, ctx);
  const analysis = analyzeVerbNoun(instructionsOf(records));
  const topVerbs = integer(values["top-verbs"], "top-verbs", 20);
  const topNouns = integer(values["top-nouns"], "top-nouns", 4);
  const svg = verbNounSunburstSvg(analysis, { topVerbs, topNouns });
  await writeFileAtomic(
    out,
    /\.html?$/i.test(out) ? `<!doctype html><meta charset="utf-8"><title>Verb–noun analysis</title>\n${svg}` : svg,
  );
  ctx.stdout.write(`${analysis.parsed} of ${analysis.total} instructions have a recognised root verb\n`);
  for (const verb of analysis.verbs.slice(0, topVerbs)) {
    ctx.stdout.write(
      `  ${verb.verb.padEnd(12)} ${String(verb.count).padStart(6)}  ${verb.nouns
        .slice(0, topNouns)
        .map((n) => `${n.noun} (${n.count})`)
        .join(", ")}\n`,
    );
  }
  ctx.stdout.write(`wrote ${out}\n`);
  return 0;
}

async function runCluster(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...COMMON,
      k: { type: "string" },
      out: { type: "string" },
      report: { type: "string" },
      seed: { type: "string" },
      "max-k": { type: "string" },
    },
    strict: true,
  });
  const out = resolve(ctx.cwd, required(values.out, "out"));
  const { records } = await loadForCli(values, ctx);
  const instructions = instructionsOf(records);
  const k = values.k === undefined || values.k === "auto" ? "auto" : integer(values.k, "k");
  const clustering = clusterInstructions(instructions, {
    k,
    seed: integer(values.seed, "seed", 0),
    maxK: values["max-k"] ? integer(values["max-k"], "max-k") : undefined,
  });
  await writeFileAtomic(out, `${JSON.stringify(clustering, null, 2)}\n`);
  const report = formatClusterReport(clustering, instructions.length);
  if (values.report) await writeFileAtomic(resolve(ctx.cwd, values.report), report);
  ctx.stdout.write(report);
  ctx.stdout.write(`wrote ${out}${values.report ? ` and ${resolve(ctx.cwd, values.report)}` : ""}\n`);
  return 0;
}

async function runGenerate(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "base-url": { type: "string" },
      model: { type: "string" },
      "api-key": { type: "string" },
      api: { type: "string" },
      "seed-tasks": { type: "string" },
      "num-instructions": { type: "string" },
      "request-batch-size": { type: "string" },
      concurrency: { type: "string" },
      "num-cpus": { type: "string" },
      out: { type: "string" },
      prompt: { type: "string" },
      temperature: { type: "string" },
      "top-p": { type: "string" },
      "max-tokens": { type: "string" },
      seed: { type: "string" },
      "rouge-tokenizer": { type: "string" },
      "allow-non-ascii": { type: "boolean" },
      "price-prompt": { type: "string" },
      "price-completion": { type: "string" },
      timeout: { type: "string" },
      "max-retries": { type: "string" },
    },
    strict: true,
  });
  const seedPath = resolve(ctx.cwd, required(values["seed-tasks"], "seed-tasks"));
  const { records } = await loadInstructionDataset({ path: seedPath, signal: ctx.signal });
  const seedTasks = records.filter<AlpacaRecord>(isAlpacaRecord);
  const promptText = values.prompt ? await readFile(resolve(ctx.cwd, values.prompt), "utf8") : undefined;
  const pricePrompt = number(values["price-prompt"], "price-prompt");
  const priceCompletion = number(values["price-completion"], "price-completion");
  const out = resolve(ctx.cwd, required(values.out, "out"));
  const timeout = number(values.timeout, "timeout");
  const result = await generateInstructions({
    baseUrl: required(values["base-url"], "base-url"),
    model: required(values.model, "model"),
    apiKey: values["api-key"] ?? ctx.env.OPENAI_API_KEY,
    api: oneOf<"chat" | "completions">(values.api, "api", ["chat", "completions"], "chat"),
    seedTasks,
    promptText,
    numInstructions: integer(values["num-instructions"], "num-instructions"),
    requestBatchSize: integer(values["request-batch-size"], "request-batch-size", 5),
    concurrency: values.concurrency ? integer(values.concurrency, "concurrency") : undefined,
    outputPath: out,
    temperature: number(values.temperature, "temperature"),
    topP: number(values["top-p"], "top-p"),
    maxTokens: values["max-tokens"] ? integer(values["max-tokens"], "max-tokens") : undefined,
    seed: values.seed ? integer(values.seed, "seed") : undefined,
    rougeTokenizer: oneOf<RougeTokenizerName>(
      values["rouge-tokenizer"],
      "rouge-tokenizer",
      ["rouge-score", "unicode"],
      "rouge-score",
    ),
    filters: { rejectNonAsciiStart: !values["allow-non-ascii"] },
    pricing:
      pricePrompt !== undefined || priceCompletion !== undefined
        ? { promptPerMillion: pricePrompt ?? 0, completionPerMillion: priceCompletion ?? 0 }
        : undefined,
    requestTimeoutMs: timeout !== undefined ? timeout * 1000 : undefined,
    maxRetries: values["max-retries"] ? integer(values["max-retries"], "max-retries") : undefined,
    signal: ctx.signal,
    log: (line) => ctx.stderr.write(`${line}\n`),
    onProgress: (p) =>
      ctx.stderr.write(
        `kept ${p.kept}/${p.target}  requests ${p.requests} (${p.failedRequests} failed)  tokens ${p.promptTokens}+${p.completionTokens}${p.costUsd !== null ? `  $${p.costUsd.toFixed(4)}` : ""}\n`,
      ),
  });
  const rejected =
    Object.entries(result.rejected)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(", ") || "none";
  ctx.stdout.write(
    `${result.kept} instructions in ${out} (${result.resumed} resumed); ${result.parsed} parsed, rejected: ${rejected}; ` +
      `${result.requests} requests, ${result.promptTokens} prompt + ${result.completionTokens} completion tokens${result.costUsd !== null ? `, $${result.costUsd.toFixed(4)}` : ""}\n`,
  );
  if (result.stoppedEarly)
    ctx.stderr.write(
      `stopped before ${result.target} instructions: ${result.stoppedEarly === "fruitless" ? "the teacher kept giving nothing new" : "request limit reached"}\n`,
    );
  return result.stoppedEarly ? 1 : 0;
}

const SUBCOMMANDS: Record<string, (args: string[], ctx: CommandContext) => Promise<number>> = {
  generate: runGenerate,
  validate: runValidate,
  stats: runStats,
  analyze: runAnalyze,
  cluster: runCluster,
  format: runFormat,
};

export const command: Command = {
  name: "data",
  summary: "Instruction data: generate, validate, stats, analyze, cluster, format",
  usage: USAGE,
  async run(args, ctx) {
    const [sub, ...rest] = args;
    const run = sub ? SUBCOMMANDS[sub] : undefined;
    if (!run) {
      ctx.stderr.write(`${sub ? `llamats data: unknown subcommand "${sub}"\n\n` : ""}${USAGE}\n`);
      return 2;
    }
    return run(rest, ctx);
  },
};
