import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { ConfigError, seedDropout, writeFileAtomic } from "@llamats/core";
import { AdamW } from "./adamw.js";
import { pruneCheckpoints, readCheckpoint, restoreWeights, writeCheckpoint } from "./checkpoint.js";
import { DataOrder } from "./data-order.js";
import { evaluate, type EvalResult } from "./evaluate.js";
import { clipByGlobalNorm } from "./grad-clip.js";
import { renderLossCurveSvg } from "./loss-curve-svg.js";
import { learningRateAt, warmupStepsFromRatio, type LrScheduleOptions } from "./lr-schedule.js";
import { MetricsLog, type EvalMetrics, type StepMetrics } from "./metrics-log.js";
import { buildMicroBatch, disposeMicroBatch, validateExamples } from "./micro-batches.js";
import { deriveSeed } from "./rng.js";
import { computeStepGradients } from "./train-step.js";
import { resolveTrainerOptions, type ResolvedTrainerOptions, type TrainerOptions } from "./trainer-options.js";
import type { TrainerState } from "./trainer-state.js";

export const METRICS_FILE = "metrics.jsonl";
export const LOSS_CURVE_FILE = "loss_curve.svg";

export type StopReason = "completed" | "early_stopping" | "interrupted";

export interface TrainSummary {
  outputDir: string;
  stoppedBy: StopReason;
  /** Optimizer steps done, including those before a resume. */
  steps: number;
  totalSteps: number;
  stepsPerEpoch: number;
  /** Loss of the last optimizer step. */
  finalLoss: number;
  lastEval: EvalResult | null;
  bestEvalLoss: number | null;
  /** Real input tokens processed by this process, and their rate over the training steps. */
  inputTokens: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
  lastCheckpoint: string | null;
  /** Where the final adapter / weights were written (null when interrupted: see lastCheckpoint). */
  savedTo: string | null;
  metricsPath: string;
  lossCurvePath: string;
}

/**
 * The training loop: micro-batches with gradient accumulation, a token-normalized loss per
 * optimizer step, global-norm clipping, AdamW with a schedule, evaluation, early stopping,
 * atomic checkpoints and exact resume. Works for LoRA and full fine-tuning alike.
 */
export class Trainer {
  readonly options: ResolvedTrainerOptions;
  readonly order: DataOrder;
  readonly totalSteps: number;
  readonly schedule: LrScheduleOptions;
  private readonly variables: ReadonlyMap<string, tf.Variable>;
  private optimizer: AdamW | null = null;

  constructor(options: TrainerOptions) {
    this.options = resolveTrainerOptions(options);
    const o = this.options;
    validateExamples(o.trainData, "trainData");
    if (o.evalData) validateExamples(o.evalData, "evalData");
    this.order = new DataOrder({
      exampleCount: o.trainData.length,
      microBatchSize: o.microBatchSize,
      gradientAccumulationSteps: o.gradientAccumulationSteps,
      shuffle: o.shuffle,
      seed: o.seed,
    });
    this.totalSteps = o.maxSteps > 0 ? o.maxSteps : Math.ceil(o.epochs * this.order.stepsPerEpoch);
    if (this.totalSteps < 1)
      throw new ConfigError(`Nothing to do: epochs ${o.epochs} and maxSteps ${o.maxSteps} give 0 optimizer steps.`, {
        key: "epochs",
      });
    const warmupSteps =
      o.warmupSteps > 0 || o.warmupRatio === undefined
        ? o.warmupSteps
        : warmupStepsFromRatio(o.warmupRatio, this.totalSteps);
    this.schedule = { type: o.lrScheduler, learningRate: o.learningRate, warmupSteps, totalSteps: this.totalSteps };
    this.variables = o.model.namedTrainableVariables();
    if (this.variables.size === 0) throw new ConfigError("The model has no trainable variables.", { key: "model" });
  }

  private message(line: string): void {
    this.options.onMessage?.(line);
  }

  private trainerState(
    step: number,
    epoch: number,
    stepInEpoch: number,
    metrics: MetricsLog,
    early: TrainerState["early_stopping"],
  ): TrainerState {
    const o = this.options;
    return {
      format: "llamats-trainer-state",
      version: 1,
      global_step: step,
      data_position: { epoch, step_in_epoch: stepInEpoch },
      total_steps: this.totalSteps,
      scheduler: {
        type: o.lrScheduler,
        learning_rate: o.learningRate,
        warmup_steps: this.schedule.warmupSteps,
        total_steps: this.totalSteps,
        last_step: step,
      },
      rng: { ...this.order.rngFor(epoch).getState(), epoch, shuffle: o.shuffle },
      data: {
        train_examples: o.trainData.length,
        micro_batch_size: o.microBatchSize,
        gradient_accumulation_steps: o.gradientAccumulationSteps,
      },
      early_stopping: { ...early },
      log_history: [...metrics.all],
    };
  }

  private checkResumable(state: TrainerState, dir: string): void {
    const o = this.options;
    const mismatches: string[] = [];
    if (state.data.train_examples !== o.trainData.length)
      mismatches.push(`training examples ${state.data.train_examples} → ${o.trainData.length}`);
    if (state.data.micro_batch_size !== o.microBatchSize)
      mismatches.push(`micro batch size ${state.data.micro_batch_size} → ${o.microBatchSize}`);
    if (state.data.gradient_accumulation_steps !== o.gradientAccumulationSteps)
      mismatches.push(`accumulation ${state.data.gradient_accumulation_steps} → ${o.gradientAccumulationSteps}`);
    if (state.rng.seed !== o.seed >>> 0 && o.shuffle) mismatches.push(`seed ${state.rng.seed} → ${o.seed}`);
    if (mismatches.length) {
      throw new ConfigError(
        `Cannot resume from ${dir} as the same run: ${mismatches.join(", ")}. Use the checkpoint's settings (or --init-adapter to start a new run from its weights).`,
        { key: "resumeFromCheckpoint" },
      );
    }
  }

  /** Runs (or continues) training to the end, an early stop, or an abort. */
  async train(): Promise<TrainSummary> {
    const o = this.options;
    await mkdir(o.outputDir, { recursive: true });
    const optimizer = new AdamW(this.variables, {
      beta1: o.adamBeta1,
      beta2: o.adamBeta2,
      epsilon: o.adamEpsilon,
      weightDecay: o.weightDecay,
    });
    this.optimizer = optimizer;
    const metricsPath = join(o.outputDir, METRICS_FILE);
    const lossCurvePath = join(o.outputDir, LOSS_CURVE_FILE);
    let step = 0;
    let epoch = 0;
    let stepInEpoch = 0;
    let metrics = new MetricsLog(metricsPath);
    const early: TrainerState["early_stopping"] = { best_eval_loss: null, evals_without_improvement: 0 };
    if (o.resumeFromCheckpoint) {
      const loaded = await readCheckpoint(o.resumeFromCheckpoint);
      this.checkResumable(loaded.trainerState, loaded.dir);
      await restoreWeights(o.model, loaded.dir);
      optimizer.setState(loaded.optimizerState);
      step = loaded.trainerState.global_step;
      ({ epoch, step_in_epoch: stepInEpoch } = loaded.trainerState.data_position);
      Object.assign(early, loaded.trainerState.early_stopping);
      metrics = new MetricsLog(
        metricsPath,
        loaded.trainerState.log_history.filter((e) => e.step <= step),
      );
      await metrics.flush();
      this.message(`resumed from ${loaded.dir} at step ${step} (epoch ${epoch}, step ${stepInEpoch} of it)`);
    }

    o.model.train?.();
    let stoppedBy: StopReason = "completed";
    let lastCheckpoint: string | null = null;
    let lastCheckpointStep = -1;
    let lastEval: EvalResult | null = null;
    let lastEvalStep = -1;
    let finalLoss = Number.NaN;
    let inputTokens = 0;
    let trainSeconds = 0;
    const started = performance.now();

    const saveCheckpoint = async () => {
      const dir = await writeCheckpoint({
        outputDir: o.outputDir,
        model: o.model,
        optimizerState: await optimizer.getState(),
        trainerState: this.trainerState(step, epoch, stepInEpoch, metrics, early),
      });
      lastCheckpoint = dir;
      lastCheckpointStep = step;
      if (o.saveTotalLimit > 0) await pruneCheckpoints(o.outputDir, o.saveTotalLimit, dir);
      this.message(`checkpoint written: ${dir}`);
    };

    const runEval = async (): Promise<boolean> => {
      if (!o.evalData || o.evalData.length === 0) return false;
      const result = await evaluate({
        model: o.model,
        examples: o.evalData,
        batchSize: o.evalBatchSize,
        padId: o.padId,
        signal: o.signal,
      });
      lastEval = result;
      lastEvalStep = step;
      const entry: EvalMetrics = {
        step,
        eval: true,
        loss: result.loss,
        perplexity: result.perplexity,
        tokens: result.tokens,
      };
      await metrics.append(entry);
      o.onLog?.(entry);
      if (early.best_eval_loss === null || result.loss < early.best_eval_loss - o.earlyStoppingThreshold) {
        early.best_eval_loss = result.loss;
        early.evals_without_improvement = 0;
      } else {
        early.evals_without_improvement += 1;
      }
      return o.earlyStoppingPatience > 0 && early.evals_without_improvement >= o.earlyStoppingPatience;
    };

    while (step < this.totalSteps) {
      if (o.signal?.aborted) {
        stoppedBy = "interrupted";
        break;
      }
      const t0 = performance.now();
      const lr = learningRateAt(this.schedule, step);
      const batches = this.order.stepMicroBatches(epoch, stepInEpoch).map((indices) =>
        buildMicroBatch(
          indices.map((i) => o.trainData[i]),
          o.padId,
        ),
      );
      const stepInputTokens = batches.reduce((sum, b) => sum + b.inputTokens, 0);
      let gradNorm: number;
      let loss: number;
      let targetTokens: number;
      try {
        // Each step's dropout masks follow from (seed, step) alone: a resumed run draws the ones it would have.
        seedDropout(deriveSeed(o.seed, step));
        const computed = computeStepGradients(o.model, batches, this.variables);
        targetTokens = computed.targetTokens;
        const names = [...computed.grads.keys()];
        const clipped = clipByGlobalNorm(
          names.map((n) => computed.grads.get(n) as tf.Tensor),
          o.maxGradNorm,
        );
        for (const g of computed.grads.values()) g.dispose();
        const clippedByName = new Map(names.map((n, i) => [n, clipped.grads[i]]));
        optimizer.applyGradients(clippedByName, lr);
        for (const g of clipped.grads) g.dispose();
        // The one read of the step, after the update is queued: loss and gradient norm together.
        const both = tf.stack([computed.loss, clipped.norm]);
        tf.dispose([computed.loss, clipped.norm]);
        const values = await both.data();
        both.dispose();
        [loss, gradNorm] = [values[0], values[1]];
      } finally {
        batches.forEach(disposeMicroBatch);
      }
      const seconds = (performance.now() - t0) / 1000;
      trainSeconds += seconds;
      inputTokens += stepInputTokens;
      step += 1;
      const stepEpoch = epoch;
      stepInEpoch += 1;
      if (stepInEpoch >= this.order.stepsPerEpoch) {
        epoch += 1;
        stepInEpoch = 0;
      }
      finalLoss = loss;
      const tokensPerSecond = trainSeconds > 0 ? inputTokens / trainSeconds : 0;
      const entry: StepMetrics = {
        step,
        epoch: stepEpoch,
        loss,
        lr,
        grad_norm: gradNorm,
        tokens: targetTokens,
        input_tokens: stepInputTokens,
        tokens_per_s: seconds > 0 ? stepInputTokens / seconds : 0,
        elapsed_s: (performance.now() - started) / 1000,
      };
      await metrics.append(entry);
      o.onLog?.(entry);
      if (!Number.isFinite(loss))
        this.message(`step ${step}: the loss is ${loss}; check the learning rate and the data`);
      o.onProgress?.({
        step,
        totalSteps: this.totalSteps,
        epoch: stepEpoch,
        loss,
        lr,
        tokensPerSecond,
        elapsedSeconds: entry.elapsed_s,
        etaSeconds: (trainSeconds / Math.max(1, inputTokens)) * stepInputTokens * (this.totalSteps - step),
      });
      let stopEarly = false;
      if (o.evalSteps > 0 && step % o.evalSteps === 0 && step < this.totalSteps) stopEarly = await runEval();
      if (o.saveSteps > 0 && step % o.saveSteps === 0 && step < this.totalSteps) await saveCheckpoint();
      if (stopEarly) {
        stoppedBy = "early_stopping";
        this.message(
          `early stopping at step ${step}: no eval improvement in ${early.evals_without_improvement} evaluations (best ${early.best_eval_loss})`,
        );
        break;
      }
    }

    let savedTo: string | null = null;
    if (stoppedBy !== "interrupted" && lastEvalStep !== step && !o.signal?.aborted) await runEval();
    if (lastCheckpointStep !== step) await saveCheckpoint();
    if (stoppedBy !== "interrupted") {
      await saveIntoDirectory(o.model, o.outputDir);
      savedTo = o.outputDir;
    }
    await writeFileAtomic(lossCurvePath, renderLossCurveSvg(metrics.all, { title: `Loss — ${o.outputDir}` }));
    return {
      outputDir: o.outputDir,
      stoppedBy,
      steps: step,
      totalSteps: this.totalSteps,
      stepsPerEpoch: this.order.stepsPerEpoch,
      finalLoss,
      lastEval,
      bestEvalLoss: early.best_eval_loss,
      inputTokens,
      tokensPerSecond: trainSeconds > 0 ? inputTokens / trainSeconds : 0,
      elapsedSeconds: (performance.now() - started) / 1000,
      lastCheckpoint,
      savedTo,
      metricsPath,
      lossCurvePath,
    };
  }

  /** Frees the optimizer's moment tensors (the model's are the caller's). */
  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
  }
}

/** Saves the model into a temp dir beside `dir`, then renames each file in: no file is ever half-written. */
async function saveIntoDirectory(model: TrainerOptions["model"], dir: string): Promise<void> {
  const tempDir = join(dir, `.final.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(tempDir, { recursive: true });
  try {
    await model.save(tempDir);
    for (const name of await readdir(tempDir)) await rename(join(tempDir, name), join(dir, name));
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

/** Trains with `options` and frees the optimizer state afterwards. */
export async function train(options: TrainerOptions): Promise<TrainSummary> {
  const trainer = new Trainer(options);
  try {
    return await trainer.train();
  } finally {
    trainer.dispose();
  }
}
