import { ConfigError } from "@llamats/core";

/** The learning-rate schedules of transformers' `get_scheduler`, by their names there. */
export type LrSchedulerType = "constant" | "constant_with_warmup" | "linear" | "cosine";
export const LR_SCHEDULER_TYPES: readonly LrSchedulerType[] = ["constant", "constant_with_warmup", "linear", "cosine"];

export interface LrScheduleOptions {
  type: LrSchedulerType;
  /** The peak learning rate. */
  learningRate: number;
  /** Optimizer steps of linear warmup from 0 (ignored by `constant`, as in transformers). */
  warmupSteps: number;
  /** Optimizer steps of the whole run (where linear / cosine reach their end). */
  totalSteps: number;
}

/**
 * The learning rate used for the update after `completedSteps` updates (0 for the first update).
 * Follows transformers' schedulers: warmup is `step / warmup`, cosine is half a cycle.
 */
export function learningRateAt(options: LrScheduleOptions, completedSteps: number): number {
  const { type, learningRate, warmupSteps, totalSteps } = options;
  const step = completedSteps;
  if (type === "constant") return learningRate;
  if (step < warmupSteps) return (learningRate * step) / Math.max(1, warmupSteps);
  switch (type) {
    case "constant_with_warmup":
      return learningRate;
    case "linear":
      return learningRate * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    case "cosine": {
      const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
      return learningRate * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
    default:
      throw new ConfigError(`Unknown lr scheduler "${String(type)}"; choose one of ${LR_SCHEDULER_TYPES.join(", ")}.`, {
        key: "lrScheduler",
      });
  }
}

/** Warmup steps from a ratio of the run, rounded up as transformers does. */
export function warmupStepsFromRatio(ratio: number, totalSteps: number): number {
  return Math.ceil(ratio * totalSteps);
}
