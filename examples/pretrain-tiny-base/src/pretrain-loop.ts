import type { LlamaForCausalLM } from "@llamats/llama-model";
import { formatProgressLine, fullTrainable, isEvalMetrics, train, type TrainSummary } from "@llamats/trainer";

export interface PretrainOptions {
  model: LlamaForCausalLM;
  trainRows: number[][];
  validationRows: number[][];
  /** The trainer's run directory: metrics.jsonl, loss_curve.svg, checkpoints. */
  runDir: string;
  steps: number;
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  padId: number;
  seed: number;
  log: (line: string) => void;
}

const LOG_EVERY = 10;
const EVAL_EVERY = 200;

/**
 * Pretraining is the trainer's full fine-tuning path from a random init: every parameter, AdamW with GPT-style
 * β2 0.95 and weight decay 0.1, cosine schedule, clipping at 1.0; rows have no labels, so every token is a target.
 */
export function pretrain(options: PretrainOptions): Promise<TrainSummary> {
  const { log } = options;
  return train({
    model: fullTrainable(options.model),
    trainData: options.trainRows.map((ids) => ({ input_ids: ids })),
    evalData: options.validationRows.map((ids) => ({ input_ids: ids })),
    outputDir: options.runDir,
    microBatchSize: options.batchSize,
    maxSteps: options.steps,
    learningRate: options.learningRate,
    lrScheduler: "cosine",
    warmupSteps: options.warmupSteps,
    weightDecay: 0.1,
    adamBeta2: 0.95,
    maxGradNorm: 1.0,
    seed: options.seed,
    padId: options.padId,
    evalSteps: EVAL_EVERY,
    saveTotalLimit: 1,
    onProgress: (p) => {
      if (p.step % LOG_EVERY === 0 || p.step === p.totalSteps) log(formatProgressLine(p));
    },
    onLog: (entry) => {
      if (isEvalMetrics(entry))
        log(
          `  validation loss ${entry.loss.toFixed(3)} (perplexity ${entry.perplexity.toFixed(1)}) at step ${entry.step}`,
        );
    },
    onMessage: log,
  });
}
