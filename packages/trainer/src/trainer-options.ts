import { ConfigError } from "@llamats/core";
import { LR_SCHEDULER_TYPES, type LrSchedulerType } from "./lr-schedule.js";
import type { MetricsEntry } from "./metrics-log.js";
import type { TrainingExample } from "./micro-batches.js";
import type { TrainProgress } from "./progress.js";
import type { TrainableModel } from "./trainable-model.js";

export interface TrainerOptions {
  model: TrainableModel;
  trainData: readonly TrainingExample[];
  /** The validation split; evaluated every `evalSteps` and at the end. */
  evalData?: readonly TrainingExample[];
  /** Where checkpoints, metrics.jsonl, loss_curve.svg and the final adapter / weights go. */
  outputDir: string;

  microBatchSize?: number;
  /** Micro-batches per optimizer step (default 1). */
  gradientAccumulationSteps?: number;
  epochs?: number;
  /** Stop after this many optimizer steps (overrides `epochs` when > 0). */
  maxSteps?: number;

  learningRate?: number;
  lrScheduler?: LrSchedulerType;
  warmupSteps?: number;
  /** Warmup as a fraction of the run (used when `warmupSteps` is not given). */
  warmupRatio?: number;
  weightDecay?: number;
  adamBeta1?: number;
  adamBeta2?: number;
  adamEpsilon?: number;
  /** Global-norm gradient clipping; 0 turns it off. */
  maxGradNorm?: number;

  /** Seeds the data order and, with the step, each step's dropout masks (core's dropout stream). */
  seed?: number;
  /** Reshuffle the training data every epoch (default true). */
  shuffle?: boolean;
  padId?: number;

  /** Evaluate every N optimizer steps (0: only at the end). */
  evalSteps?: number;
  evalBatchSize?: number;
  /** Save a checkpoint every N optimizer steps (0: only at the end). */
  saveSteps?: number;
  /** Keep at most this many checkpoints (0: all). */
  saveTotalLimit?: number;
  /** Stop after this many evaluations without improvement (0: never). */
  earlyStoppingPatience?: number;
  /** Improvement smaller than this does not count. */
  earlyStoppingThreshold?: number;

  /** A checkpoint-<step> directory to continue from. */
  resumeFromCheckpoint?: string;
  /** Abort to stop after the current step; a checkpoint is written first. */
  signal?: AbortSignal;

  onLog?: (entry: MetricsEntry) => void;
  onProgress?: (progress: TrainProgress) => void;
  /** Human-readable notes (checkpoint written, early stop, resume). */
  onMessage?: (line: string) => void;
}

export type ResolvedTrainerOptions = Required<
  Omit<
    TrainerOptions,
    "evalData" | "resumeFromCheckpoint" | "signal" | "onLog" | "onProgress" | "onMessage" | "warmupRatio"
  >
> &
  Pick<
    TrainerOptions,
    "evalData" | "resumeFromCheckpoint" | "signal" | "onLog" | "onProgress" | "onMessage" | "warmupRatio"
  >;

function positiveInteger(value: number, key: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`${key} must be a positive integer, found ${value}.`, { key });
  return value;
}

function nonNegative(value: number, key: string): number {
  if (!Number.isFinite(value) || value < 0)
    throw new ConfigError(`${key} must be a number ≥ 0, found ${value}.`, { key });
  return value;
}

/** Fills in defaults (those of HF's Trainer where alpaca-lora relies on them) and checks every value. */
export function resolveTrainerOptions(options: TrainerOptions): ResolvedTrainerOptions {
  const lrScheduler = options.lrScheduler ?? "linear";
  if (!LR_SCHEDULER_TYPES.includes(lrScheduler)) {
    throw new ConfigError(`lrScheduler must be one of ${LR_SCHEDULER_TYPES.join(", ")}, found "${lrScheduler}".`, {
      key: "lrScheduler",
    });
  }
  if (options.warmupRatio !== undefined && !(options.warmupRatio >= 0 && options.warmupRatio <= 1)) {
    throw new ConfigError(`warmupRatio must be in [0, 1], found ${options.warmupRatio}.`, { key: "warmupRatio" });
  }
  if (options.trainData.length === 0)
    throw new ConfigError("trainData is empty: nothing to train on.", { key: "trainData" });
  return {
    ...options,
    microBatchSize: positiveInteger(options.microBatchSize ?? 4, "microBatchSize"),
    gradientAccumulationSteps: positiveInteger(options.gradientAccumulationSteps ?? 1, "gradientAccumulationSteps"),
    epochs: nonNegative(options.epochs ?? 3, "epochs"),
    maxSteps: nonNegative(options.maxSteps ?? 0, "maxSteps"),
    learningRate: nonNegative(options.learningRate ?? 3e-4, "learningRate"),
    lrScheduler,
    warmupSteps: nonNegative(options.warmupSteps ?? 0, "warmupSteps"),
    weightDecay: nonNegative(options.weightDecay ?? 0, "weightDecay"),
    adamBeta1: nonNegative(options.adamBeta1 ?? 0.9, "adamBeta1"),
    adamBeta2: nonNegative(options.adamBeta2 ?? 0.999, "adamBeta2"),
    adamEpsilon: nonNegative(options.adamEpsilon ?? 1e-8, "adamEpsilon"),
    maxGradNorm: nonNegative(options.maxGradNorm ?? 1.0, "maxGradNorm"),
    seed: options.seed ?? 42,
    shuffle: options.shuffle ?? true,
    padId: options.padId ?? 0,
    evalSteps: nonNegative(options.evalSteps ?? 0, "evalSteps"),
    evalBatchSize: positiveInteger(options.evalBatchSize ?? options.microBatchSize ?? 4, "evalBatchSize"),
    saveSteps: nonNegative(options.saveSteps ?? 0, "saveSteps"),
    saveTotalLimit: nonNegative(options.saveTotalLimit ?? 0, "saveTotalLimit"),
    earlyStoppingPatience: nonNegative(options.earlyStoppingPatience ?? 0, "earlyStoppingPatience"),
    earlyStoppingThreshold: nonNegative(options.earlyStoppingThreshold ?? 0, "earlyStoppingThreshold"),
  };
}
