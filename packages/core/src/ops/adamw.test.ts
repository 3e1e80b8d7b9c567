import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { countGpuDispatches } from "../backend/gpu-dispatches.js";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { ShapeMismatchError } from "../errors.js";
import { adamwUpdate, adamwUpdateReference, type AdamWUpdateOptions } from "./adamw.js";
import { maxScaledDiff, randomValues } from "./test-support.js";

/** The kernels and tfjs's ops both compute in float32; only rounding order differs. */
const TOLERANCE = 1e-6;

const OPTIONS: AdamWUpdateOptions = { lr: 3e-3, step: 1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

describe.each(TEST_BACKENDS)("adamwUpdate on %s", (backend) => {
  beforeAll(() => useBackend(backend), 60_000);

  it("matches the tfjs composition over several steps, with and without weight decay, at odd sizes", async () => {
    for (const [i, [shape, weightDecay]] of (
      [
        [[37, 5], 0],
        [[1001], 0.01],
        [[3, 4, 7], 0.1],
      ] as const
    ).entries()) {
      const n = shape.reduce((a, b) => a * b, 1);
      let ours = { param: tf.tensor(randomValues(n, i + 1), [...shape]), moments: tf.zeros([2, ...shape]) };
      let want = { param: ours.param.clone(), moments: ours.moments.clone() };
      for (let step = 1; step <= 4; step++) {
        // Gradients that change sign and scale between steps; one exactly zero.
        const g = randomValues(n, 10 * i + step, step);
        g[0] = 0;
        const grad = tf.tensor(g, [...shape]);
        const options = { ...OPTIONS, step, weightDecay };
        const nextOurs = adamwUpdate(ours.param, grad, ours.moments, options);
        const nextWant = adamwUpdateReference(want.param, grad, want.moments, options);
        tf.dispose([grad, ours.param, ours.moments, want.param, want.moments]);
        ours = nextOurs;
        want = nextWant;
        const label = `[${shape}] wd ${weightDecay} step ${step}`;
        expect(maxScaledDiff(await ours.param.data(), await want.param.data()), `${label} param`).toBeLessThan(
          TOLERANCE,
        );
        expect(maxScaledDiff(await ours.moments.data(), await want.moments.data()), `${label} moments`).toBeLessThan(
          TOLERANCE,
        );
      }
      tf.dispose([ours.param, ours.moments, want.param, want.moments]);
    }
  }, 120_000);

  it("rejects moments of the wrong shape", () => {
    const p = tf.zeros([3, 4]);
    expect(() => adamwUpdate(p, p, tf.zeros([3, 4]), OPTIONS)).toThrow(ShapeMismatchError);
    expect(() => adamwUpdate(p, p, tf.zeros([3, 4]), OPTIONS)).toThrow(
      "adamwUpdate: moments must be float32 [2,3,4] (param [3,4]), found float32 [3,4].",
    );
    tf.dispose(p);
  });

  if (backend === "webgpu")
    it("takes 2 GPU dispatches a parameter (the tfjs composition: 16, its unstack and stack included)", async () => {
      const p = tf.zeros([64]);
      const m = tf.zeros([2, 64]);
      const count = async (f: typeof adamwUpdate) => {
        const counter = countGpuDispatches()!;
        const out = f(p, p, m, OPTIONS);
        await out.param.data();
        counter.stop();
        tf.dispose([out.param, out.moments]);
        return counter.count();
      };
      expect(await count(adamwUpdate)).toBe(2);
      const composed = await count(adamwUpdateReference);
      expect(composed).toBe(16);
      tf.dispose([p, m]);
    });
});
