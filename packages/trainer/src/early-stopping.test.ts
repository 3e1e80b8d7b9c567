import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { writeSafetensors } from "@llamats/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isEvalMetrics, readMetricsLog, type MetricsEntry } from "./metrics-log.js";
import type { TrainingExample } from "./micro-batches.js";
import { useBackend } from "@llamats/core/testing";
import { checkWellFormedXml, pathVertices } from "./test-support/xml-check.js";
import type { TrainableModel } from "./trainable-model.js";
import { train } from "./trainer.js";
import type { TrainerOptions } from "./trainer-options.js";

/** A next-token table (logits = table[previous id]): training moves it predictably and in milliseconds. */
function bigramModel(vocab: number): { model: TrainableModel; table: tf.Variable } {
  const table = tf.variable(tf.zeros([vocab, vocab]));
  const model: TrainableModel = {
    weightsFile: "adapter_model.safetensors",
    forward: (inputIds) => ({ logits: tf.gather(table, inputIds) as tf.Tensor3D }),
    namedTrainableVariables: () => new Map([["table", table]]),
    save: async (dir) =>
      writeSafetensors(join(dir, "adapter_model.safetensors"), {
        table: { shape: [vocab, vocab], data: (await table.data()) as Float32Array },
      }),
  };
  return { model, table };
}

// Training teaches 1 → 2; the "conflicting" eval set wants 1 → 3, so its loss rises with every step.
const TRAIN: TrainingExample[] = [{ input_ids: [1, 2], labels: [1, 2] }];
const CONFLICTING: TrainingExample[] = [{ input_ids: [1, 3], labels: [1, 3] }];

describe("early stopping", () => {
  let dir: string;
  beforeEach(async () => {
    await useBackend("cpu");
    dir = await mkdtemp(join(tmpdir(), "llamats-early-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function run(options: Pick<TrainerOptions, "evalData" | "earlyStoppingPatience" | "earlyStoppingThreshold">) {
    const { model, table } = bigramModel(4);
    const before = tf.memory().numTensors;
    const messages: string[] = [];
    const summary = await train({
      model,
      trainData: TRAIN,
      outputDir: dir,
      microBatchSize: 1,
      maxSteps: 8,
      learningRate: 0.1,
      evalSteps: 1,
      shuffle: false,
      onMessage: (m) => messages.push(m),
      ...options,
    });
    expect(tf.memory().numTensors).toBe(before);
    table.dispose();
    const entries = await readMetricsLog(summary.metricsPath);
    return { summary, messages, entries, evals: entries.filter(isEvalMetrics).map((e) => e.loss) };
  }

  const stepsOf = (entries: readonly MetricsEntry[]) => entries.filter((e) => !isEvalMetrics(e)).map((e) => e.step);

  it("stops once the eval loss has failed to improve for `patience` evaluations, and saves what it has", async () => {
    const { summary, messages, entries, evals } = await run({ evalData: CONFLICTING, earlyStoppingPatience: 2 });
    // Eval 1 sets the best; evals 2 and 3 are worse: the second miss ends the run at step 3 of 8.
    expect(evals).toHaveLength(3);
    expect(evals[1]).toBeGreaterThan(evals[0]);
    expect(evals[2]).toBeGreaterThan(evals[1]);
    expect(summary.stoppedBy).toBe("early_stopping");
    expect([summary.steps, summary.totalSteps]).toEqual([3, 8]);
    expect(stepsOf(entries)).toEqual([1, 2, 3]);
    expect(summary.bestEvalLoss).toBe(evals[0]);
    expect(messages.some((m) => /early stopping at step 3/.test(m))).toBe(true);
    expect(summary.savedTo).toBe(dir);
    expect((await readdir(dir)).sort()).toEqual([
      "adapter_model.safetensors",
      "checkpoint-3",
      "loss_curve.svg",
      "metrics.jsonl",
    ]);
    const trainerState = JSON.parse(await readFile(join(dir, "checkpoint-3", "trainer_state.json"), "utf8")) as {
      early_stopping: unknown;
    };
    expect(trainerState.early_stopping).toEqual({ best_eval_loss: evals[0], evals_without_improvement: 2 });
    // The curve the run wrote: one vertex per logged step, eval losses as dots.
    const elements = checkWellFormedXml(await readFile(summary.lossCurvePath, "utf8"));
    const path = elements.find((e) => e.name === "path" && e.attributes.class === "train-loss");
    expect(pathVertices(path?.attributes.d ?? "")).toHaveLength(3);
    expect(elements.filter((e) => e.attributes.class === "eval-loss")).toHaveLength(3);
  });

  it("runs to the end while the eval loss keeps improving", async () => {
    const { summary, evals } = await run({ evalData: TRAIN, earlyStoppingPatience: 1 });
    expect(summary.stoppedBy).toBe("completed");
    expect(summary.steps).toBe(8);
    expect(evals).toHaveLength(8);
    for (let i = 1; i < evals.length; i++) expect(evals[i]).toBeLessThan(evals[i - 1]);
  });

  it("does not count an improvement smaller than the threshold", async () => {
    const { summary, evals } = await run({ evalData: TRAIN, earlyStoppingPatience: 2, earlyStoppingThreshold: 10 });
    expect(evals[1]).toBeLessThan(evals[0]);
    expect([summary.stoppedBy, summary.steps]).toEqual(["early_stopping", 3]);
  });

  it("is off with patience 0", async () => {
    const { summary, evals } = await run({ evalData: CONFLICTING, earlyStoppingPatience: 0 });
    expect([summary.stoppedBy, summary.steps, evals.length]).toEqual(["completed", 8, 8]);
  });
});
