import type { LrSchedulerType } from "./lr-schedule.js";
import type { MetricsEntry } from "./metrics-log.js";
import type { RngState } from "./rng.js";

/** Everything besides weights and optimizer moments that a resumed run needs (trainer_state.json). */
export interface TrainerState {
  format: "llamats-trainer-state";
  version: 1;
  /** Optimizer steps done. */
  global_step: number;
  /** Where the next step's data comes from: its epoch (0-based) and step within that epoch. */
  data_position: { epoch: number; step_in_epoch: number };
  total_steps: number;
  scheduler: {
    type: LrSchedulerType;
    learning_rate: number;
    warmup_steps: number;
    total_steps: number;
    last_step: number;
  };
  /** The generator of the current epoch's order (it is derived from the seed and the epoch). */
  rng: RngState & { epoch: number; shuffle: boolean };
  /** Settings that must match for the resumed run to be the same run. */
  data: { train_examples: number; micro_batch_size: number; gradient_accumulation_steps: number };
  early_stopping: { best_eval_loss: number | null; evals_without_improvement: number };
  log_history: MetricsEntry[];
}
