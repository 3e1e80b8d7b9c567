import { describe, expect, it } from "vitest";
import { learningRateAt, warmupStepsFromRatio } from "./lr-schedule.js";
import { readTrajectory } from "./test-support/fixtures.js";

describe("learningRateAt", () => {
  it("gives the trajectory fixture's lr for every step (HF cosine with warmup; the first update's lr is 0)", async () => {
    const { spec, log } = await readTrajectory();
    const totalSteps = log.length;
    for (const entry of log) {
      const lr = learningRateAt(
        { type: "cosine", learningRate: spec.learning_rate, warmupSteps: spec.warmup_steps, totalSteps },
        entry.step - 1,
      );
      expect(lr).toBeCloseTo(entry.lr, 15);
    }
  });

  it("linear decays to 0 at the end after warmup; constant ignores warmup; constant_with_warmup does not", () => {
    const base = { learningRate: 1, warmupSteps: 2, totalSteps: 10 };
    expect([0, 1, 2, 6, 10].map((s) => learningRateAt({ ...base, type: "linear" }, s))).toEqual([0, 0.5, 1, 0.5, 0]);
    expect(learningRateAt({ ...base, type: "constant" }, 0)).toBe(1);
    expect([0, 1, 5].map((s) => learningRateAt({ ...base, type: "constant_with_warmup" }, s))).toEqual([0, 0.5, 1]);
    expect(learningRateAt({ ...base, type: "cosine" }, 10)).toBeCloseTo(0, 15);
  });

  it("rounds warmup ratio up as transformers does", () => {
    expect(warmupStepsFromRatio(0.03, 100)).toBe(3);
    expect(warmupStepsFromRatio(0.1, 12)).toBe(2);
  });
});
