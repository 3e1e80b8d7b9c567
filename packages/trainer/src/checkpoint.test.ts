import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listCheckpoints, pruneCheckpoints, readCheckpoint, restoreWeights, writeCheckpoint } from "./checkpoint.js";
import { useBackend } from "@llamats/core/testing";
import type { TrainableModel } from "./trainable-model.js";
import type { TrainerState } from "./trainer-state.js";
import { writeSafetensors } from "@llamats/core";

function state(step: number): TrainerState {
  return {
    format: "llamats-trainer-state",
    version: 1,
    global_step: step,
    data_position: { epoch: 0, step_in_epoch: step },
    total_steps: 10,
    scheduler: { type: "linear", learning_rate: 1e-3, warmup_steps: 0, total_steps: 10, last_step: step },
    rng: { seed: 1, state: 1, epoch: 0, shuffle: true },
    data: { train_examples: 10, micro_batch_size: 1, gradient_accumulation_steps: 1 },
    early_stopping: { best_eval_loss: null, evals_without_improvement: 0 },
    log_history: [],
  };
}

function fakeModel(variable: tf.Variable, failSave = false): TrainableModel {
  return {
    weightsFile: "adapter_model.safetensors",
    forward: () => {
      throw new Error("not used");
    },
    namedTrainableVariables: () => new Map([["w", variable]]),
    save: async (dir) => {
      if (failSave) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      await writeSafetensors(join(dir, "adapter_model.safetensors"), {
        w: { shape: variable.shape.slice(), data: (await variable.data()) as Float32Array },
      });
    },
  };
}

describe("checkpoints", () => {
  let dir: string;
  beforeEach(async () => {
    await useBackend("cpu");
    dir = await mkdtemp(join(tmpdir(), "llamats-ckpt-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("round-trip weights, optimizer moments and state", async () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const moments = new Map([
      ["w", { shape: [3], expAvg: Float32Array.from([0.1, 0.2, 0.3]), expAvgSq: Float32Array.from([1, 2, 3]) }],
    ]);
    const written = await writeCheckpoint({
      outputDir: dir,
      model: fakeModel(w),
      optimizerState: { step: 4, moments },
      trainerState: state(4),
    });
    expect(written).toBe(join(dir, "checkpoint-4"));
    w.assign(tf.tensor1d([0, 0, 0]));
    await restoreWeights(fakeModel(w), written);
    expect(Array.from(await w.data())).toEqual([1, 2, 3]);
    const loaded = await readCheckpoint(written);
    expect(loaded.trainerState.global_step).toBe(4);
    expect(loaded.optimizerState.step).toBe(4);
    expect(Array.from(loaded.optimizerState.moments.get("w")?.expAvgSq ?? [])).toEqual([1, 2, 3]);
    w.dispose();
  });

  it("a failed write (disk full) leaves the previous checkpoint intact and no temp directory", async () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]));
    const moments = new Map([["w", { shape: [3], expAvg: new Float32Array(3), expAvgSq: new Float32Array(3) }]]);
    await writeCheckpoint({
      outputDir: dir,
      model: fakeModel(w),
      optimizerState: { step: 2, moments },
      trainerState: state(2),
    });
    const before = await readFile(join(dir, "checkpoint-2", "trainer_state.json"), "utf8");
    // Same step again (as after a resume) and a new step: both fail mid-write.
    for (const step of [2, 3]) {
      await expect(
        writeCheckpoint({
          outputDir: dir,
          model: fakeModel(w, true),
          optimizerState: { step, moments },
          trainerState: state(step),
        }),
      ).rejects.toThrow(/ENOSPC.*Earlier checkpoints are intact/);
    }
    expect(await readdir(dir)).toEqual(["checkpoint-2"]);
    expect(await readFile(join(dir, "checkpoint-2", "trainer_state.json"), "utf8")).toBe(before);
    expect((await readdir(join(dir, "checkpoint-2"))).sort()).toEqual([
      "adapter_model.safetensors",
      "optimizer.safetensors",
      "trainer_state.json",
    ]);
    w.dispose();
  });

  it("prunes the oldest beyond the limit, never the newest", async () => {
    const w = tf.variable(tf.tensor1d([1]));
    const moments = new Map([["w", { shape: [1], expAvg: new Float32Array(1), expAvgSq: new Float32Array(1) }]]);
    for (const step of [1, 2, 10])
      await writeCheckpoint({
        outputDir: dir,
        model: fakeModel(w),
        optimizerState: { step, moments },
        trainerState: state(step),
      });
    await pruneCheckpoints(dir, 2, join(dir, "checkpoint-10"));
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([2, 10]);
    w.dispose();
  });
});
