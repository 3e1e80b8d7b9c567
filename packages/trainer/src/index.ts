export const PACKAGE_NAME = "@llamats/trainer";

// The loop
export { Trainer, train, METRICS_FILE, LOSS_CURVE_FILE } from "./trainer.js";
export type { TrainSummary, StopReason } from "./trainer.js";
export { resolveTrainerOptions } from "./trainer-options.js";
export type { TrainerOptions, ResolvedTrainerOptions } from "./trainer-options.js";

// Models
export { loraTrainable, fullTrainable } from "./trainable-model.js";
export type {
  TrainableModel,
  CausalLM,
  CausalLMOutput,
  ForwardOptions,
  PeftModelLike,
  CausalLMWithParameters,
} from "./trainable-model.js";

// Data
export { buildMicroBatch, disposeMicroBatch, countTargetTokens, validateExamples } from "./micro-batches.js";
export { IGNORE_INDEX } from "@llamats/core";
export type { TrainingExample, MicroBatch } from "./micro-batches.js";
export { DataOrder } from "./data-order.js";
export type { DataOrderOptions } from "./data-order.js";

// Pieces of a step
export { computeStepGradients } from "./train-step.js";
export type { StepGradients } from "./train-step.js";
export { AdamW } from "./adamw.js";
export type { AdamWOptions, AdamWState, AdamWMoments } from "./adamw.js";
export { learningRateAt, warmupStepsFromRatio, LR_SCHEDULER_TYPES } from "./lr-schedule.js";
export type { LrSchedulerType, LrScheduleOptions } from "./lr-schedule.js";
export { clipByGlobalNorm, globalNorm } from "./grad-clip.js";
export { evaluate } from "./evaluate.js";
export type { EvalResult, EvaluateOptions } from "./evaluate.js";
export { SeededRng, deriveSeed, permutation } from "./rng.js";
export type { RngState } from "./rng.js";

// Checkpoints and what a person sees
export {
  writeCheckpoint,
  readCheckpoint,
  restoreWeights,
  loadInitialWeights,
  assignVariablesFromFile,
  listCheckpoints,
  pruneCheckpoints,
  TRAINER_STATE_FILE,
  OPTIMIZER_FILE,
} from "./checkpoint.js";
export type { LoadedCheckpoint, WriteCheckpointOptions } from "./checkpoint.js";
export type { TrainerState } from "./trainer-state.js";
export { MetricsLog, readMetricsLog, isEvalMetrics } from "./metrics-log.js";
export type { MetricsEntry, StepMetrics, EvalMetrics } from "./metrics-log.js";
export { renderLossCurveSvg } from "./loss-curve-svg.js";
export type { LossCurveOptions } from "./loss-curve-svg.js";
export { formatProgressLine, formatDuration } from "./progress.js";
export type { TrainProgress } from "./progress.js";
