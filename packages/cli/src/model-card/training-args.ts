import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FormatError, writeFileAtomic } from "@llamats/core";

/** What `llamats finetune` ran with, saved beside its outputs so a model card can say how the model was trained. */
const TRAINING_ARGS_FILE = "training_args.json";

export interface TrainingArgs {
  format: "llamats-training-args";
  version: 1;
  /** The --model as given: a Hub repo id or a local folder. */
  base_model: string;
  method: "lora" | "full";
  dataset: {
    /** The --data as given: a Hub dataset id, or a local file or folder. */
    name: string;
    source: "hub" | "local";
    split?: string;
    data_files?: string[];
    format: string;
    train_examples: number;
    val_examples: number;
  };
  template: string;
  cutoff_len: number;
  train_on_inputs: boolean;
  learning_rate: number;
  lr_scheduler: string;
  warmup_steps: number;
  warmup_ratio?: number;
  weight_decay: number;
  max_grad_norm: number;
  micro_batch_size: number;
  batch_size: number;
  epochs: number;
  max_steps: number;
  seed: number;
  backend: string;
  llamats_version?: string;
}

export async function writeTrainingArgs(dir: string, args: TrainingArgs): Promise<void> {
  await writeFileAtomic(join(dir, TRAINING_ARGS_FILE), `${JSON.stringify(args, null, 2)}\n`);
}

/** The run's training_args.json, or null when the folder has none (not made by `llamats finetune`). */
export async function readTrainingArgs(dir: string): Promise<TrainingArgs | null> {
  const path = join(dir, TRAINING_ARGS_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(text) as Partial<TrainingArgs> | null;
    if (parsed?.format !== "llamats-training-args") throw new Error('no "format": "llamats-training-args"');
    return parsed as TrainingArgs;
  } catch (cause) {
    throw new FormatError(`${path}: not a llamats training record (${(cause as Error).message}).`, {
      file: path,
      cause,
    });
  }
}
