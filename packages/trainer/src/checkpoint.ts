import { randomBytes } from "node:crypto";
import { access, mkdir, readFile, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import {
  FormatError,
  LlamatsError,
  ShapeMismatchError,
  openSafetensors,
  writeFileAtomic,
  writeSafetensors,
} from "@llamats/core";
import type { AdamWMoments, AdamWState } from "./adamw.js";
import type { TrainableModel } from "./trainable-model.js";
import type { TrainerState } from "./trainer-state.js";

export const TRAINER_STATE_FILE = "trainer_state.json";
export const OPTIMIZER_FILE = "optimizer.safetensors";
const CHECKPOINT_DIR = /^checkpoint-(\d+)$/;

export interface WriteCheckpointOptions {
  outputDir: string;
  model: TrainableModel;
  optimizerState: AdamWState;
  trainerState: TrainerState;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Writes `<out>/checkpoint-<step>/` (weights, optimizer moments, trainer state) into a temp
 * directory first and renames it into place, so a failed write (disk full, a crash) leaves
 * every earlier checkpoint untouched and no half-written one.
 */
export async function writeCheckpoint(options: WriteCheckpointOptions): Promise<string> {
  const { outputDir, model, optimizerState, trainerState } = options;
  const name = `checkpoint-${trainerState.global_step}`;
  const finalDir = join(outputDir, name);
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tempDir = join(outputDir, `.${name}.tmp-${tag}`);
  await mkdir(tempDir, { recursive: true });
  try {
    await model.save(tempDir);
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [varName, moments] of optimizerState.moments) {
      tensors[`${varName}.exp_avg`] = { shape: moments.shape, data: moments.expAvg };
      tensors[`${varName}.exp_avg_sq`] = { shape: moments.shape, data: moments.expAvgSq };
    }
    await writeSafetensors(join(tempDir, OPTIMIZER_FILE), tensors, {
      metadata: { step: String(optimizerState.step), optimizer: "adamw" },
    });
    await writeFileAtomic(join(tempDir, TRAINER_STATE_FILE), `${JSON.stringify(trainerState, null, 1)}\n`);
    if (await exists(finalDir)) {
      // Re-saving a step (after a resume): swap in the new one, then drop the old.
      const oldDir = join(outputDir, `.${name}.old-${tag}`);
      await rename(finalDir, oldDir);
      await rename(tempDir, finalDir);
      await rm(oldDir, { recursive: true, force: true });
    } else {
      await rename(tempDir, finalDir);
    }
  } catch (error) {
    await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
    throw new LlamatsError(
      `Could not write checkpoint ${finalDir}: ${(error as Error).message}. Earlier checkpoints are intact.`,
      { cause: error },
    );
  }
  return finalDir;
}

/** Checkpoint directories of `outputDir`, oldest step first. */
export async function listCheckpoints(outputDir: string): Promise<{ step: number; dir: string }[]> {
  const names = await readdir(outputDir).catch(() => [] as string[]);
  return names
    .map((n) => ({ match: CHECKPOINT_DIR.exec(n), n }))
    .filter((e): e is { match: RegExpExecArray; n: string } => e.match !== null)
    .map((e) => ({ step: Number(e.match[1]), dir: join(outputDir, e.n) }))
    .sort((a, b) => a.step - b.step);
}

/** Deletes the oldest checkpoints so at most `limit` remain (never `keep`). */
export async function pruneCheckpoints(outputDir: string, limit: number, keep: string): Promise<void> {
  const all = await listCheckpoints(outputDir);
  let excess = all.length - limit;
  for (const { dir } of all) {
    if (excess <= 0) break;
    if (dir === keep) continue;
    await rm(dir, { recursive: true, force: true });
    excess -= 1;
  }
}

export interface LoadedCheckpoint {
  dir: string;
  trainerState: TrainerState;
  optimizerState: AdamWState;
}

/** Reads a checkpoint's trainer state and optimizer moments (weights are restored by `restoreWeights`). */
export async function readCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const statePath = join(dir, TRAINER_STATE_FILE);
  let trainerState: TrainerState;
  try {
    trainerState = JSON.parse(await readFile(statePath, "utf8")) as TrainerState;
  } catch (cause) {
    throw new FormatError(
      `${statePath}: cannot read the trainer state (${(cause as Error).message}); is ${dir} a llamats checkpoint-<step> directory?`,
      { file: statePath, cause },
    );
  }
  if (trainerState.format !== "llamats-trainer-state" || trainerState.version !== 1) {
    throw new FormatError(
      `${statePath}: expected format "llamats-trainer-state" version 1, found ${String(trainerState.format)} ${String(trainerState.version)}.`,
      { file: statePath },
    );
  }
  const reader = await openSafetensors(join(dir, OPTIMIZER_FILE));
  const moments = new Map<string, AdamWMoments>();
  try {
    for (const tensorName of reader.names()) {
      if (!tensorName.endsWith(".exp_avg")) continue;
      const varName = tensorName.slice(0, -".exp_avg".length);
      moments.set(varName, {
        shape: reader.info(tensorName).shape,
        expAvg: await reader.readFloat32(tensorName),
        expAvgSq: await reader.readFloat32(`${varName}.exp_avg_sq`),
      });
    }
  } finally {
    await reader.close();
  }
  const step = Number(reader.metadata.step ?? trainerState.global_step);
  return { dir, trainerState, optimizerState: { step, moments } };
}

// PEFT files leave the adapter name out of their keys; some in-memory names keep it.
function withoutAdapterName(name: string): string {
  return name.replace(/\.(lora_[AB]|lora_embedding_[AB])\.[^.]+\.weight$/, ".$1.weight");
}

/**
 * Assigns every trainable variable from a safetensors file (or sharded index) holding tensors of
 * the same names and shapes; used for resuming and for starting from given adapter weights.
 */
export async function assignVariablesFromFile(
  variables: ReadonlyMap<string, tf.Variable>,
  path: string,
): Promise<void> {
  const reader = await openSafetensors(path);
  try {
    for (const [name, variable] of variables) {
      const stored = reader.has(name) ? name : withoutAdapterName(name);
      if (!reader.has(stored))
        throw new FormatError(`${path}: no tensor "${name}" for the trainable variable of that name.`, { file: path });
      const shape = reader.info(stored).shape;
      if (shape.length !== variable.shape.length || shape.some((d, i) => d !== variable.shape[i])) {
        throw new ShapeMismatchError(
          `${path}: tensor "${stored}" has shape [${shape}], the model's variable has [${variable.shape}] (another r or model?).`,
          {
            tensor: stored,
            expected: variable.shape.slice(),
            found: shape,
          },
        );
      }
      const data = await reader.readFloat32(stored);
      tf.tidy(() => variable.assign(tf.tensor(data, shape, "float32")));
    }
  } finally {
    await reader.close();
  }
}

/** The weights file inside a directory saved by `model.save` (single file or sharded index). */
async function weightsFileIn(model: TrainableModel, dir: string): Promise<string> {
  const single = join(dir, model.weightsFile);
  return (await exists(single)) ? single : `${single.replace(/\.safetensors$/, "")}.safetensors.index.json`;
}

/** Loads the trainable tensors saved in `dir` (by `model.save`) back into the model's variables. */
export async function restoreWeights(model: TrainableModel, dir: string): Promise<void> {
  await assignVariablesFromFile(model.namedTrainableVariables(), await weightsFileIn(model, dir));
}

/** Starts from given weights: a saved directory (PEFT adapter dir, model dir) or a bare .safetensors file. */
export async function loadInitialWeights(model: TrainableModel, dirOrFile: string): Promise<void> {
  const path =
    dirOrFile.endsWith(".safetensors") || dirOrFile.endsWith(".index.json")
      ? dirOrFile
      : await weightsFileIn(model, dirOrFile);
  await assignVariablesFromFile(model.namedTrainableVariables(), path);
}
