import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  ConfigError,
  checkPushTarget,
  hubSettingsFromEnv,
  isLocalPath,
  registerGradients,
  writeFileAtomic,
  type FrozenWeightFormat,
} from "@llamats/core";
import {
  getTemplate,
  isTokenizedRecord,
  loadInstructionDataset,
  splitTrainVal,
  tokenizeForTraining,
  type InstructionRecord,
  type PromptTemplate,
} from "@llamats/instruct-data";
import { LlamaForCausalLM, resolveModelFile } from "@llamats/llama-model";
import { PeftModel, getPeftModel } from "@llamats/peft-lora";
import { loadTokenizer, type Tokenizer } from "@llamats/tokenizer";
import {
  LR_SCHEDULER_TYPES,
  TRAINER_STATE_FILE,
  formatDuration,
  formatProgressLine,
  fullTrainable,
  listCheckpoints,
  loadInitialWeights,
  loraTrainable,
  train,
  type LrSchedulerType,
  type TrainableModel,
  type TrainingExample,
} from "@llamats/trainer";
import type { Command, CommandContext } from "../command.js";
import { BACKEND_USAGE, parseBackendOption, cliWasmThreads } from "../backend-option.js";
import { pushFolder } from "../hub-push.js";
import { writeTrainingArgs, type TrainingArgs } from "../model-card/training-args.js";
import { packageVersion } from "../package-version.js";
import { writeTrainedTemplate } from "../export/trained-template.js";
import { pathExists } from "../path-exists.js";
import { startBackend, warnTo } from "../start-backend.js";
import { parseWeightsOption } from "../weights-option.js";

const USAGE = `llamats finetune --model <repo|dir> --data <file|dir|dataset> [--out <dir>] [options]

Fine-tune a LLaMA-family model on instruction data with LoRA (alpaca-lora's recipe and defaults)
or fully (--full, Stanford Alpaca's recipe). Writes <out>/checkpoint-<step>/, metrics.jsonl,
loss_curve.svg, training_args.json and, at the end, the adapter (adapter_config.json,
adapter_model.safetensors) or the full model. Ctrl-C writes a checkpoint and exits; --resume-from-checkpoint continues.

Data: Alpaca records (tokenized with --template) or pre-tokenized {"input_ids": [...], "labels": [...]}
(no tokenizer needed), in JSON, JSONL, Parquet, CSV or TSV: a file, a folder or a Hub dataset repo.

Model and data:
  --model <repo|dir>             base model (Hub repo id or local folder)
  --data <file|dir|repo>         training data
  --split <name>                 split of a folder or Hub repo (default train; Hub naming: data/train-…parquet, train.jsonl)
  --data-files <glob,…>          files of a folder or Hub repo instead of a split (paths or globs)
  --out <dir>                    output directory (default ./lora-alpaca)
  --template <name|file>         prompt template (default alpaca)
  --cutoff-len <n>               longest example in tokens (default 256)
  --train-on-inputs / --no-train-on-inputs   also train on the prompt (default: train on inputs, as alpaca-lora)
  --val-set-size <n|fraction>    validation examples held out (default 2000; 0 for none)
  --pad-id <id>                  padding id (default 0, as alpaca-lora)
LoRA:
  --lora-r <n> (8)  --lora-alpha <n> (16)  --lora-dropout <p> (0.05)  --target-modules <a,b> (q_proj,v_proj)
  --init-adapter <dir|file>      start from these adapter weights (a PEFT dir or a bare adapter_model.safetensors)
  --full                         full fine-tuning instead of LoRA (all parameters train)
  --quantize <nf4|int8>          QLoRA: the frozen projections packed as NF4 (or Q8_0) while loading, LoRA on top
  --base-dtype <float32|bfloat16>  the frozen projections in bf16 (two a 32-bit word), widened inside the matmul
Optimization:
  --micro-batch-size <n> (4)  --batch-size <n> (128; accumulation = batch / micro)
  --epochs <n> (3)  --max-steps <n> (overrides epochs)  --lr <x> (3e-4)
  --lr-scheduler <${LR_SCHEDULER_TYPES.join("|")}> (linear)  --warmup-steps <n> (100)  --warmup-ratio <x>
  --weight-decay <x> (0)  --max-grad-norm <x> (1.0)  --seed <n> (42)  --no-shuffle
Evaluation and checkpoints:
  --eval-steps <n> (200)  --save-steps <n> (200)  --save-total-limit <n> (3; 0 keeps all)
  --early-stopping-patience <n> (0: off)
  --resume-from-checkpoint <dir> continue a run (a checkpoint-<step> dir, or the output dir for its latest)
Hub:
  --push-to-hub <user/name>      at the end, upload the adapter (or model) with a model card (as \`llamats push\`)
  --private                      create that repo private
Other:
  --config <run.json>            options from a JSON file (keys as the options, e.g. "lora-r" or "loraR"); flags win
  --revision <rev>  --offline
${BACKEND_USAGE}`;

const OPTIONS = {
  model: { type: "string" },
  quantize: { type: "string" },
  "base-dtype": { type: "string" },
  data: { type: "string" },
  split: { type: "string" },
  "data-files": { type: "string" },
  out: { type: "string" },
  template: { type: "string" },
  "cutoff-len": { type: "string" },
  "train-on-inputs": { type: "boolean" },
  "no-train-on-inputs": { type: "boolean" },
  "val-set-size": { type: "string" },
  "pad-id": { type: "string" },
  "lora-r": { type: "string" },
  "lora-alpha": { type: "string" },
  "lora-dropout": { type: "string" },
  "target-modules": { type: "string" },
  "init-adapter": { type: "string" },
  full: { type: "boolean" },
  "micro-batch-size": { type: "string" },
  "batch-size": { type: "string" },
  epochs: { type: "string" },
  "max-steps": { type: "string" },
  lr: { type: "string" },
  "lr-scheduler": { type: "string" },
  "warmup-steps": { type: "string" },
  "warmup-ratio": { type: "string" },
  "weight-decay": { type: "string" },
  "max-grad-norm": { type: "string" },
  seed: { type: "string" },
  "no-shuffle": { type: "boolean" },
  "eval-steps": { type: "string" },
  "save-steps": { type: "string" },
  "save-total-limit": { type: "string" },
  "early-stopping-patience": { type: "string" },
  "resume-from-checkpoint": { type: "string" },
  config: { type: "string" },
  "push-to-hub": { type: "string" },
  private: { type: "boolean" },
  revision: { type: "string" },
  offline: { type: "boolean" },
  backend: { type: "string" },
} as const;

type OptionName = keyof typeof OPTIONS;
type OptionValues = Partial<Record<OptionName, string | boolean>>;

/** "loraR" / "lora_r" / "lora-r" → "lora-r", so a config file may use any of the three spellings. */
function kebab(key: string): string {
  return key
    .replace(/_/g, "-")
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase();
}

/** Options from `--config run.json`, checked against the flags; the command line wins over them. */
async function readConfigFile(path: string): Promise<OptionValues> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new ConfigError(`--config ${path}: cannot read it as JSON (${(cause as Error).message}).`, {
      key: "config",
      cause,
    });
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new ConfigError(`--config ${path}: expected a JSON object of options.`, { key: "config" });
  const values: OptionValues = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const name = kebab(key) as OptionName;
    if (!(name in OPTIONS) || name === "config")
      throw new ConfigError(`--config ${path}: unknown option "${key}" (see \`llamats finetune --help\`).`, { key });
    const spec = OPTIONS[name];
    if (spec.type === "boolean") {
      if (typeof value !== "boolean")
        throw new ConfigError(`--config ${path}: "${key}" must be true or false.`, { key });
      values[name] = value;
    } else {
      values[name] = Array.isArray(value) ? value.join(",") : String(value);
    }
  }
  return values;
}

function num(
  values: OptionValues,
  key: OptionName,
  fallback: number | undefined,
  check: (n: number) => boolean,
  what: string,
): number | undefined {
  const raw = values[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n) || !check(n))
    throw new ConfigError(`--${key} must be ${what}; got "${String(raw)}".`, { key });
  return n;
}
const isCount = (n: number) => Number.isInteger(n) && n >= 0;
const isPositiveCount = (n: number) => Number.isInteger(n) && n >= 1;

/** A checkpoint-<step> dir as given, or the latest one inside an output dir. */
async function resolveCheckpoint(path: string): Promise<string> {
  if (await pathExists(join(path, TRAINER_STATE_FILE))) return path;
  const all = await listCheckpoints(path);
  const latest = all[all.length - 1];
  if (!latest)
    throw new ConfigError(
      `--resume-from-checkpoint ${path}: neither a checkpoint-<step> directory (no ${TRAINER_STATE_FILE}) nor an output directory holding one.`,
      { key: "resume-from-checkpoint" },
    );
  return latest.dir;
}

type HubOptions = { revision?: string; offline: boolean; cacheDir: string; hubUrl: string; accessToken: string };

/** Files that make a model folder usable by `generate`/`chat`, copied next to a fully fine-tuned model. */
const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer.model",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "generation_config.json",
];

/** The model's tokenizer, or null when it has no tokenizer files. */
async function loadModelTokenizer(model: string, hub: HubOptions): Promise<Tokenizer | null> {
  const files = await Promise.all(
    ["tokenizer.json", "tokenizer.model"].map((file) => resolveModelFile(model, file, hub)),
  );
  return files.some((f) => f !== null) ? loadTokenizer(model, hub) : null;
}

/** Copies the base model's tokenizer (and generation defaults) into `outputDir`, as Stanford Alpaca's train.py saves them. */
async function copyTokenizerFiles(model: string, hub: HubOptions, outputDir: string): Promise<void> {
  for (const file of TOKENIZER_FILES) {
    const source = await resolveModelFile(model, file, hub);
    if (source) await writeFileAtomic(join(outputDir, file), await readFile(source));
  }
}

interface PreparedData {
  train: TrainingExample[];
  val: TrainingExample[];
  format: string;
  source: "hub" | "local";
  dataFiles?: string[];
  cutoffLen: number;
  trainOnInputs: boolean;
  /** The prompt template the text records were rendered with (null when every record came pre-tokenized). */
  template: PromptTemplate | null;
}

async function prepareData(
  values: OptionValues,
  model: string,
  hub: HubOptions,
  ctx: CommandContext,
): Promise<PreparedData> {
  const data = values.data as string;
  const local = isLocalPath(data) || (await pathExists(resolve(ctx.cwd, data)));
  const dataFiles = (values["data-files"] as string | undefined)
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const choice = { split: values.split as string | undefined, dataFiles: dataFiles?.length ? dataFiles : undefined };
  const dataset = await loadInstructionDataset(
    local ? { path: resolve(ctx.cwd, data), ...choice } : { repo: data, ...choice, ...hub, signal: ctx.signal },
  );
  const cutoffLen = num(values, "cutoff-len", 256, isPositiveCount, "a whole number ≥ 1") as number;
  const trainOnInputs = values["no-train-on-inputs"] === true ? false : values["train-on-inputs"] !== false;
  const needsTokenizer = dataset.records.some((r) => !isTokenizedRecord(r));
  const tokenizer = needsTokenizer ? await loadModelTokenizer(model, hub) : null;
  const template = getTemplate((values.template as string | undefined) ?? "alpaca");
  const toExample = (record: InstructionRecord): TrainingExample => {
    if (isTokenizedRecord(record))
      return {
        input_ids: record.input_ids.slice(0, cutoffLen),
        labels: (record.labels ?? record.input_ids).slice(0, cutoffLen),
      };
    if (!tokenizer) {
      throw new ConfigError(
        `${data} holds text records, and ${model} has no tokenizer files (tokenizer.json or tokenizer.model) to tokenize them: give pre-tokenized {"input_ids", "labels"} JSONL instead.`,
        { key: "data" },
      );
    }
    return tokenizeForTraining(record, { tokenizer, template, cutoffLen, trainOnInputs });
  };
  const valSetSize = num(values, "val-set-size", 2000, (n) => n >= 0, "a count or a fraction in (0, 1)") as number;
  const seed = num(values, "seed", 42, isCount, "a whole number ≥ 0") as number;
  if (valSetSize >= dataset.records.length && valSetSize >= 1) {
    throw new ConfigError(
      `--val-set-size ${valSetSize} leaves no training data out of ${dataset.records.length} records; use a smaller count (or 0).`,
      { key: "val-set-size" },
    );
  }
  const split = splitTrainVal(dataset.records, { valSetSize, seed });
  return {
    train: split.train.map(toExample),
    val: split.val.map(toExample),
    format: dataset.format,
    source: local ? "local" : "hub",
    ...(choice.dataFiles ? { dataFiles: choice.dataFiles } : {}),
    cutoffLen,
    trainOnInputs,
    template: needsTokenizer ? template : null,
  };
}

interface PreparedModel {
  trainable: TrainableModel;
  describe: string;
  /** Frees the base weights and any adapter. */
  dispose: () => void;
}

/** The frozen base's format from --quantize or --base-dtype (one of them at most; neither with --full). */
function baseWeights(values: OptionValues): FrozenWeightFormat {
  const quantize = parseWeightsOption(values.quantize, "--quantize", ["nf4", "int8"]);
  const baseDtype = parseWeightsOption(values["base-dtype"], "--base-dtype", ["float32", "bfloat16"]);
  if (quantize && baseDtype)
    throw new ConfigError("Give --quantize or --base-dtype, not both: each sets how the frozen base is held.", {
      key: "quantize",
    });
  const weights = quantize ?? baseDtype ?? "float32";
  if (values.full && weights !== "float32")
    throw new ConfigError(
      `--full trains every weight, but a ${weights} base is frozen; drop --full to train LoRA on it, or the option.`,
      { key: "full" },
    );
  return weights;
}

async function prepareModel(
  values: OptionValues,
  model: string,
  hub: HubOptions,
  ctx: CommandContext,
): Promise<PreparedModel> {
  const weights = baseWeights(values);
  const llama = await LlamaForCausalLM.fromPretrained(model, { ...hub, signal: ctx.signal, weights });
  try {
    if (values.full) {
      llama.setTrainable(() => true);
      const count = llama.trainableVariables().reduce((sum, v) => sum + v.size, 0);
      return {
        trainable: fullTrainable(llama),
        describe: `full fine-tuning: ${count.toLocaleString("en-US")} parameters`,
        dispose: () => llama.dispose(),
      };
    }
    const init = values["init-adapter"] as string | undefined;
    let peft: PeftModel;
    if (init && !init.endsWith(".safetensors")) {
      // A PEFT directory brings its own config (r, alpha, targets): train it further as PEFT does.
      peft = await PeftModel.fromPretrained(llama, resolve(ctx.cwd, init), { isTrainable: true });
    } else {
      peft = getPeftModel(
        llama,
        {
          r: num(values, "lora-r", 8, isPositiveCount, "a whole number ≥ 1"),
          lora_alpha: num(values, "lora-alpha", 16, (n) => n > 0, "a number > 0"),
          lora_dropout: num(values, "lora-dropout", 0.05, (n) => n >= 0 && n < 1, "a number in [0, 1)"),
          target_modules: ((values["target-modules"] as string | undefined) ?? "q_proj,v_proj")
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
          bias: "none",
          task_type: "CAUSAL_LM",
          base_model_name_or_path: model,
        },
        { seed: num(values, "seed", 42, isCount, "a whole number ≥ 0") },
      );
    }
    const trainable = loraTrainable(peft);
    if (init && init.endsWith(".safetensors")) await loadInitialWeights(trainable, resolve(ctx.cwd, init));
    const report = peft.trainableParameters();
    return {
      trainable,
      dispose: () => peft.unload().dispose(),
      describe: `LoRA: trainable params ${report.trainable.toLocaleString("en-US")} || all params ${report.total.toLocaleString("en-US")} || trainable% ${report.percent.toFixed(4)}`,
    };
  } catch (error) {
    llama.dispose();
    throw error;
  }
}

interface RunSettings {
  microBatchSize: number;
  batchSize: number;
  epochs: number;
  maxSteps: number;
  learningRate: number;
  warmupSteps: number;
  warmupRatio: number | undefined;
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
}

/** The record of this run that `push` turns into a model card (training_args.json). */
function trainingArgs(
  values: OptionValues,
  model: string,
  data: PreparedData,
  run: RunSettings,
  lrScheduler: LrSchedulerType,
  backend: string,
): TrainingArgs {
  const version = packageVersion("@llamats/cli");
  return {
    format: "llamats-training-args",
    version: 1,
    base_model: model,
    method: values.full ? "full" : "lora",
    dataset: {
      name: values.data as string,
      source: data.source,
      ...(data.dataFiles ? { data_files: data.dataFiles } : { split: (values.split as string | undefined) ?? "train" }),
      format: data.format,
      train_examples: data.train.length,
      val_examples: data.val.length,
    },
    template: (values.template as string | undefined) ?? "alpaca",
    cutoff_len: data.cutoffLen,
    train_on_inputs: data.trainOnInputs,
    learning_rate: run.learningRate,
    lr_scheduler: lrScheduler,
    warmup_steps: run.warmupSteps,
    ...(run.warmupRatio !== undefined ? { warmup_ratio: run.warmupRatio } : {}),
    weight_decay: run.weightDecay,
    max_grad_norm: run.maxGradNorm,
    micro_batch_size: run.microBatchSize,
    batch_size: run.batchSize,
    epochs: run.epochs,
    max_steps: run.maxSteps,
    seed: run.seed,
    backend,
    ...(version ? { llamats_version: version } : {}),
  };
}

/** Draws the trainer's progress line in place on a terminal, or one line every 10 s elsewhere. */
function progressRenderer(stream: CommandContext["stderr"]): {
  draw: (line: string, force?: boolean) => void;
  end: () => void;
} {
  const tty = Boolean((stream as { isTTY?: boolean }).isTTY);
  let last = 0;
  let open = false;
  return {
    draw(line, force = false) {
      const now = Date.now();
      if (!force && now - last < (tty ? 100 : 10_000)) return;
      last = now;
      if (tty) {
        stream.write(`\r\x1b[2K${line}`);
        open = true;
      } else {
        stream.write(`${line}\n`);
      }
    },
    end() {
      if (open) stream.write("\n");
      open = false;
    },
  };
}

export const command: Command = {
  name: "finetune",
  summary: "Fine-tune a model with LoRA (or fully) on instruction data",
  usage: USAGE,
  async run(args: string[], ctx: CommandContext): Promise<number> {
    const { values: flags } = parseArgs({ args, strict: true, allowPositionals: false, options: OPTIONS });
    const fromFile = flags.config ? await readConfigFile(resolve(ctx.cwd, flags.config)) : {};
    const values: OptionValues = { ...fromFile, ...(flags as OptionValues) };
    if (!values.model || !values.data) {
      ctx.stderr.write(
        "llamats finetune: give --model <repo|dir> and --data <file|dir|dataset> (or put them in --config).\n",
      );
      return 2;
    }
    const model = values.model as string;
    const outputDir = resolve(ctx.cwd, (values.out as string | undefined) ?? "./lora-alpaca");
    const microBatchSize = num(values, "micro-batch-size", 4, isPositiveCount, "a whole number ≥ 1") as number;
    const batchSize = num(values, "batch-size", 128, isPositiveCount, "a whole number ≥ 1") as number;
    if (batchSize % microBatchSize !== 0)
      throw new ConfigError(
        `--batch-size ${batchSize} must be a multiple of --micro-batch-size ${microBatchSize} (accumulation = batch / micro).`,
        { key: "batch-size" },
      );
    const lrScheduler = ((values["lr-scheduler"] as string | undefined) ?? "linear") as LrSchedulerType;
    if (!LR_SCHEDULER_TYPES.includes(lrScheduler))
      throw new ConfigError(`--lr-scheduler must be one of ${LR_SCHEDULER_TYPES.join(", ")}; got "${lrScheduler}".`, {
        key: "lr-scheduler",
      });
    const settings = hubSettingsFromEnv(ctx.env);
    const hub: HubOptions = {
      ...(values.revision ? { revision: values.revision as string } : {}),
      offline: values.offline === true || settings.offline,
      cacheDir: settings.cacheDir,
      hubUrl: settings.hubUrl,
      // '' (no token) rather than undefined, so the libraries do not fall back to process.env.
      accessToken: settings.accessToken ?? "",
    };
    const pushTo = values["push-to-hub"] as string | undefined;
    // Before hours of training, not after.
    if (pushTo) checkPushTarget({ repo: pushTo, accessToken: settings.accessToken });
    else if (values.private)
      throw new ConfigError("--private goes with --push-to-hub <user/name>.", { key: "private" });
    baseWeights(values); // checked before anything loads

    const backend = await startBackend({
      backend: parseBackendOption(values.backend as string | undefined),
      wasmThreads: cliWasmThreads(ctx.env),
      warn: warnTo(ctx.stderr),
    });
    await registerGradients();
    ctx.stderr.write(`backend ${backend.backend}: ${backend.reason}\n`);
    const data = await prepareData(values, model, hub, ctx);
    ctx.stderr.write(`data: ${data.train.length} training / ${data.val.length} validation examples (${data.format})\n`);
    const { trainable, describe, dispose } = await prepareModel(values, model, hub, ctx);
    const run: RunSettings = {
      microBatchSize,
      batchSize,
      epochs: num(values, "epochs", 3, (n) => n > 0, "a number > 0") as number,
      maxSteps: num(values, "max-steps", 0, isCount, "a whole number ≥ 0") as number,
      learningRate: num(values, "lr", 3e-4, (n) => n >= 0, "a number ≥ 0") as number,
      warmupSteps: num(
        values,
        "warmup-steps",
        values["warmup-ratio"] !== undefined ? 0 : 100,
        isCount,
        "a whole number ≥ 0",
      ) as number,
      warmupRatio: num(values, "warmup-ratio", undefined, (n) => n >= 0 && n <= 1, "a number in [0, 1]"),
      weightDecay: num(values, "weight-decay", 0, (n) => n >= 0, "a number ≥ 0") as number,
      maxGradNorm: num(values, "max-grad-norm", 1.0, (n) => n >= 0, "a number ≥ 0") as number,
      seed: num(values, "seed", 42, isCount, "a whole number ≥ 0") as number,
    };
    await writeTrainingArgs(outputDir, trainingArgs(values, model, data, run, lrScheduler, backend.backend));
    ctx.stderr.write(`${describe}\n`);
    const resumeFrom = values["resume-from-checkpoint"]
      ? await resolveCheckpoint(resolve(ctx.cwd, values["resume-from-checkpoint"] as string))
      : undefined;
    const bar = progressRenderer(ctx.stderr);
    try {
      const summary = await train({
        model: trainable,
        trainData: data.train,
        evalData: data.val,
        outputDir,
        microBatchSize,
        gradientAccumulationSteps: batchSize / microBatchSize,
        epochs: run.epochs,
        maxSteps: run.maxSteps,
        learningRate: run.learningRate,
        lrScheduler,
        warmupSteps: run.warmupSteps,
        warmupRatio: run.warmupRatio,
        weightDecay: run.weightDecay,
        maxGradNorm: run.maxGradNorm,
        seed: run.seed,
        shuffle: values["no-shuffle"] !== true,
        padId: num(values, "pad-id", 0, isCount, "a token id"),
        evalSteps: num(values, "eval-steps", 200, isCount, "a whole number ≥ 0"),
        saveSteps: num(values, "save-steps", 200, isCount, "a whole number ≥ 0"),
        saveTotalLimit: num(values, "save-total-limit", 3, isCount, "a whole number ≥ 0"),
        earlyStoppingPatience: num(values, "early-stopping-patience", 0, isCount, "a whole number ≥ 0"),
        resumeFromCheckpoint: resumeFrom,
        signal: ctx.signal,
        onProgress: (p) => bar.draw(formatProgressLine(p), p.step === p.totalSteps),
        onLog: (entry) => {
          if ("eval" in entry) {
            bar.end();
            ctx.stderr.write(
              `eval at step ${entry.step}: loss ${entry.loss.toFixed(4)}, perplexity ${entry.perplexity.toFixed(2)} (${entry.tokens} tokens)\n`,
            );
          }
        },
        onMessage: (line) => {
          bar.end();
          ctx.stderr.write(`${line}\n`);
        },
      });
      bar.end();
      if (values.full && summary.savedTo) await copyTokenizerFiles(model, hub, summary.savedTo);
      // `llamats export gguf --ollama` gives Ollama the prompt format the model learned.
      if (summary.savedTo && data.template) await writeTrainedTemplate(summary.savedTo, data.template);
      const lines = [
        `${summary.stoppedBy === "interrupted" ? "interrupted" : summary.stoppedBy === "early_stopping" ? "stopped early" : "done"}: ${summary.steps}/${summary.totalSteps} steps in ${formatDuration(summary.elapsedSeconds)}, ${Math.round(summary.tokensPerSecond)} tokens/s`,
        `final train loss ${summary.finalLoss.toFixed(4)}${summary.lastEval ? `, eval loss ${summary.lastEval.loss.toFixed(4)} (perplexity ${summary.lastEval.perplexity.toFixed(2)})` : ""}`,
        summary.savedTo
          ? `${values.full ? "model" : "adapter"} written to ${summary.savedTo}`
          : `resume with: llamats finetune … --resume-from-checkpoint ${summary.lastCheckpoint}`,
        `last checkpoint ${summary.lastCheckpoint}; metrics ${summary.metricsPath}; loss curve ${summary.lossCurvePath}`,
      ];
      ctx.stdout.write(`${lines.join("\n")}\n`);
      if (summary.stoppedBy === "interrupted") return 130;
      if (pushTo && summary.savedTo) {
        const pushed = await pushFolder({
          dir: summary.savedTo,
          repo: pushTo,
          ...(values.private === true ? { private: true } : {}),
          kind: values.full ? "full" : "adapter",
          baseModel: model,
          ctx,
        });
        ctx.stdout.write(`pushed to ${pushed.repoUrl}\n`);
      }
      return 0;
    } finally {
      bar.end();
      dispose();
    }
  },
};
