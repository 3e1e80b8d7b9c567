import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LrSchedulerType } from "./lr-schedule.js";
import { isEvalMetrics, readMetricsLog, type MetricsEntry, type StepMetrics } from "./metrics-log.js";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { TRAJECTORY, parseAdamW, readTensors, readTrajectory, type Trajectory } from "./test-support/fixtures.js";
import { tinyLoraModel, type LoadedTinyModel } from "./test-support/tiny-models.js";
import { train } from "./trainer.js";
import type { TrainerOptions } from "./trainer-options.js";

/** Trainer options taken from the trajectory's spec only, so another trajectory checks the same way. */
function optionsFromSpec(trajectory: Trajectory): Omit<TrainerOptions, "model" | "outputDir"> {
  const { spec } = trajectory;
  const adam = parseAdamW(spec.optimizer);
  return {
    trainData: trajectory.examples,
    microBatchSize: spec.micro_batch_size,
    gradientAccumulationSteps: spec.gradient_accumulation_steps,
    epochs: spec.num_epochs,
    learningRate: spec.learning_rate,
    lrScheduler: spec.lr_scheduler as LrSchedulerType,
    warmupSteps: spec.warmup_steps,
    maxGradNorm: spec.max_grad_norm,
    adamBeta1: adam.beta1,
    adamBeta2: adam.beta2,
    adamEpsilon: adam.epsilon,
    weightDecay: adam.weightDecay,
    shuffle: spec.shuffle,
    padId: spec.pad_id,
  };
}

/** llama1-tiny + getPeftModel with the spec's LoRA settings, starting from adapter_init (the --init-adapter path). */
async function loadModel(trajectory: Trajectory, dropout = trajectory.spec.lora_dropout): Promise<LoadedTinyModel> {
  const { spec } = trajectory;
  const lora = {
    r: spec.lora_r,
    alpha: spec.lora_alpha,
    dropout,
    targetModules: spec.target_modules,
  };
  return tinyLoraModel(lora, `${TRAJECTORY}/adapter_init.safetensors`);
}

function maxAbsDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  let max = 0;
  for (const [name, values] of a) {
    const other = b.get(name) as Float32Array;
    for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i] - other[i]));
  }
  return max;
}

const stepsOf = (entries: readonly MetricsEntry[]) => entries.filter((e): e is StepMetrics => !isEvalMetrics(e));

function worstLossDiff(got: readonly StepMetrics[], trajectory: Trajectory): number {
  let worst = 0;
  for (const entry of got) {
    const want = trajectory.log[entry.step - 1];
    worst = Math.max(worst, Math.abs(entry.loss - want.loss));
    expect(entry.tokens).toBe(want.tokens);
    expect(entry.epoch).toBe(want.epoch);
    expect(entry.lr).toBeCloseTo(want.lr, 12);
    expect(Math.abs(entry.grad_norm - want.grad_norm)).toBeLessThan(1e-4 * Math.max(1, want.grad_norm));
  }
  return worst;
}

// The model is the real one: @llamats/llama-model's LlamaForCausalLM + @llamats/peft-lora's getPeftModel.
// wasm and webgpu run the whole trajectory; the plain-JS cpu backend (~30x slower) runs its first steps,
// stopped by an abort (the Ctrl-C path), and a resume that continues it.
describe.each(TEST_BACKENDS.filter((b) => b !== "cpu"))(
  "Trainer on the lora-trajectory fixture (%s, whole run)",
  (backend) => {
    let trajectory: Trajectory;
    let root: string;
    let fullRun: StepMetrics[] = [];
    const numTensorsAfterStep: number[] = [];

    beforeAll(async () => {
      await useBackend(backend);
      trajectory = await readTrajectory();
      root = await mkdtemp(join(tmpdir(), `llamats-trainer-${backend}-`));
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it("matches every step loss within 1e-4 and the final adapter within 1e-4", async () => {
      const { model, dispose } = await loadModel(trajectory);
      const outputDir = join(root, "full");
      const summary = await train({
        ...optionsFromSpec(trajectory),
        model,
        outputDir,
        saveSteps: 4,
        onLog: () => numTensorsAfterStep.push(tf.memory().numTensors),
      });
      fullRun = stepsOf(await readMetricsLog(summary.metricsPath));
      expect(fullRun.map((e) => e.step)).toEqual(trajectory.log.map((e) => e.step));
      expect(worstLossDiff(fullRun, trajectory)).toBeLessThan(1e-4);
      const finalAdapter = await readTensors(join(outputDir, "adapter_model.safetensors"));
      expect(maxAbsDiff(finalAdapter, await readTensors(`${TRAJECTORY}/adapter_final.safetensors`))).toBeLessThan(1e-4);
      expect(summary.stoppedBy).toBe("completed");
      expect(summary.steps).toBe(trajectory.log.length);
      expect((await readdir(outputDir)).sort()).toEqual(
        [
          "adapter_config.json",
          "adapter_model.safetensors",
          "checkpoint-12",
          "checkpoint-4",
          "checkpoint-8",
          "loss_curve.svg",
          "metrics.jsonl",
        ].sort(),
      );
      dispose();
    });

    it("keeps tf.memory().numTensors flat across steps", () => {
      expect(numTensorsAfterStep.length).toBe(trajectory.log.length);
      expect(new Set(numTensorsAfterStep.slice(1)).size).toBe(1);
    });

    it("resumed from checkpoint-4, reproduces steps 5… within 1e-6", async () => {
      const { model, dispose } = await loadModel(trajectory);
      const outputDir = join(root, "resumed");
      const summary = await train({
        ...optionsFromSpec(trajectory),
        model,
        outputDir,
        resumeFromCheckpoint: join(root, "full", "checkpoint-4"),
      });
      const resumed = stepsOf(await readMetricsLog(summary.metricsPath));
      expect(resumed.map((e) => e.step)).toEqual(fullRun.map((e) => e.step));
      for (let i = 4; i < fullRun.length; i++) expect(Math.abs(resumed[i].loss - fullRun[i].loss)).toBeLessThan(1e-6);
      const a = await readTensors(join(outputDir, "adapter_model.safetensors"));
      const b = await readTensors(join(root, "full", "adapter_model.safetensors"));
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
      dispose();
    });
  },
);

describe("Trainer on the lora-trajectory fixture (cpu, first steps)", () => {
  let trajectory: Trajectory;
  let root: string;

  beforeAll(async () => {
    await useBackend("cpu");
    trajectory = await readTrajectory();
    root = await mkdtemp(join(tmpdir(), "llamats-trainer-cpu-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function runUntil(stopAfter: number, outputDir: string, resumeFromCheckpoint?: string, dropout?: number) {
    const { model, dispose } = await loadModel(trajectory, dropout);
    const controller = new AbortController();
    const summary = await train({
      ...optionsFromSpec(trajectory),
      model,
      outputDir,
      resumeFromCheckpoint,
      signal: controller.signal,
      onLog: (entry) => {
        if (entry.step === stopAfter) controller.abort();
      },
    });
    dispose();
    return summary;
  }

  it("an abort after step 1 writes checkpoint-1; resuming it gives step 2 of the fixture", async () => {
    const first = await runUntil(1, join(root, "a"));
    expect(first.stoppedBy).toBe("interrupted");
    expect(first.lastCheckpoint).toBe(join(root, "a", "checkpoint-1"));
    expect(first.savedTo).toBeNull();
    expect(worstLossDiff(stepsOf(await readMetricsLog(first.metricsPath)), trajectory)).toBeLessThan(1e-4);
    const second = await runUntil(2, join(root, "b"), first.lastCheckpoint as string);
    const steps = stepsOf(await readMetricsLog(second.metricsPath));
    expect(steps.map((e) => e.step)).toEqual([1, 2]);
    expect(worstLossDiff(steps, trajectory)).toBeLessThan(1e-4);
  });

  it("with lora_dropout 0.1, a resumed run draws the masks the uninterrupted one drew (losses within 1e-6)", async () => {
    const whole = stepsOf(await readMetricsLog((await runUntil(3, join(root, "d-whole"), undefined, 0.1)).metricsPath));
    const first = await runUntil(1, join(root, "d-first"), undefined, 0.1);
    const resumed = await runUntil(3, join(root, "d-resumed"), first.lastCheckpoint as string, 0.1);
    const steps = stepsOf(await readMetricsLog(resumed.metricsPath));
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3]);
    for (let i = 1; i < 3; i++) expect(Math.abs(steps[i].loss - whole[i].loss)).toBeLessThan(1e-6);
    // Dropout is on: the losses leave the no-dropout fixture's.
    expect(Math.abs(whole[2].loss - trajectory.log[2].loss)).toBeGreaterThan(1e-4);
  }, 120_000);
});
