import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { FormatError, resolveRepoFile, type HubOptions } from "@llamats/core";
import { LOSS_CURVE_FILE, METRICS_FILE, isEvalMetrics, readMetricsLog } from "@llamats/trainer";
import { readTrainingArgs, type TrainingArgs } from "./training-args.js";

/** What a model card says, gathered from the files `finetune` / `merge` leave in the folder. */
export interface CardFacts {
  /** The repo the card is for ("user/name"). */
  repo: string;
  /** A LoRA adapter, a base with an adapter merged in, or a fully fine-tuned model. */
  kind: "adapter" | "merged" | "full";
  /** The base model as given (a Hub id or a local folder), when known. */
  baseModel?: string;
  /** For a merged model: the adapter merged in. */
  adapter?: string;
  /** The base model's license, from its own card's front matter. */
  license?: string;
  lora?: { r: number; alpha: number; dropout: number; targetModules: string[]; rslora: boolean };
  training?: TrainingArgs;
  finalTrainLoss?: { step: number; loss: number };
  finalEval?: { step: number; loss: number; perplexity: number };
  /** Optimizer steps done, from metrics.jsonl. */
  steps?: number;
  /** True when the folder has the trainer's loss curve (loss_curve.svg). */
  lossCurve: boolean;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/** A card is made from files a user may have edited: a broken one is named, not a stack trace. */
function unreadable(path: string, cause: unknown): FormatError {
  return new FormatError(`${path}: cannot read it for the model card (${(cause as Error).message}).`, {
    file: path,
    cause,
  });
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  if (!(await isFile(path))) return null;
  try {
    const json = JSON.parse(await readFile(path, "utf8")) as unknown;
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw new Error("not a JSON object");
    return json as Record<string, unknown>;
  } catch (cause) {
    throw unreadable(path, cause);
  }
}

/** LoRA settings from a PEFT adapter_config.json. */
function loraFrom(config: Record<string, unknown>): CardFacts["lora"] {
  const targets = config.target_modules;
  return {
    r: Number(config.r),
    alpha: Number(config.lora_alpha),
    dropout: Number(config.lora_dropout ?? 0),
    targetModules: Array.isArray(targets) ? targets.map(String) : typeof targets === "string" ? [targets] : [],
    rslora: config.use_rslora === true,
  };
}

/** The `license:` of a model card's YAML front matter. */
export function licenseFromCard(card: string): string | undefined {
  const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(card)?.[1];
  const license = front ? /^license:\s*["']?([^"'\s#]+)/m.exec(front)?.[1] : undefined;
  return license || undefined;
}

/** The base model's license from its README.md (local folder or Hub), or undefined when it cannot be found. */
async function baseLicense(base: string, hub: HubOptions): Promise<string | undefined> {
  const path = await resolveRepoFile({ repo: base, file: "README.md", ...hub }).catch(() => null);
  return path ? licenseFromCard(await readFile(path, "utf8")) : undefined;
}

export interface GatherCardFactsOptions {
  dir: string;
  repo: string;
  kind: CardFacts["kind"];
  baseModel?: string;
  adapter?: string;
  /** Where the adapter's training outputs are, when they are not in `dir` (a merge of a local adapter folder). */
  trainingDir?: string;
  hub: HubOptions;
}

/** Reads adapter_config.json, training_args.json, metrics.jsonl and loss_curve.svg, and the base model's license. */
export async function gatherCardFacts(options: GatherCardFactsOptions): Promise<CardFacts> {
  const source = options.trainingDir ?? options.dir;
  const adapterConfig = await readJson(join(source, "adapter_config.json"));
  const training = (await readTrainingArgs(source)) ?? undefined;
  const baseModel =
    options.baseModel ??
    training?.base_model ??
    (typeof adapterConfig?.base_model_name_or_path === "string" ? adapterConfig.base_model_name_or_path : undefined);
  const facts: CardFacts = {
    repo: options.repo,
    kind: options.kind,
    lossCurve: await isFile(join(options.dir, LOSS_CURVE_FILE)),
    ...(baseModel ? { baseModel } : {}),
    ...(options.adapter ? { adapter: options.adapter } : {}),
    ...(adapterConfig ? { lora: loraFrom(adapterConfig) } : {}),
    ...(training ? { training } : {}),
  };
  if (await isFile(join(source, METRICS_FILE))) {
    const metrics = await readMetricsLog(join(source, METRICS_FILE)).catch((cause: unknown) => {
      throw unreadable(join(source, METRICS_FILE), cause);
    });
    const steps = metrics.filter((m) => !isEvalMetrics(m));
    const evals = metrics.filter(isEvalMetrics);
    const lastStep = steps[steps.length - 1];
    const lastEval = evals[evals.length - 1];
    if (lastStep) {
      facts.finalTrainLoss = { step: lastStep.step, loss: lastStep.loss };
      facts.steps = lastStep.step;
    }
    if (lastEval) facts.finalEval = { step: lastEval.step, loss: lastEval.loss, perplexity: lastEval.perplexity };
  }
  if (baseModel) {
    const license = await baseLicense(baseModel, options.hub);
    if (license) facts.license = license;
  }
  return facts;
}
