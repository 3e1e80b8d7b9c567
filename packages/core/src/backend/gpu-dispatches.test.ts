import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countGpuDispatches } from "./gpu-dispatches.js";
import { releaseBackend } from "./init-backend.js";
import { TEST_BACKENDS, useBackend } from "./test-backends.js";

// Above tfjs-webgpu's CPU hand-off threshold (1,000 elements), so each op runs as a GPU program.
const SIDE = 64;

describe.each(TEST_BACKENDS)("countGpuDispatches on %s", (backend) => {
  beforeAll(() => useBackend(backend));
  // A WebGPU device left open keeps the worker alive.
  afterAll(() => releaseBackend());

  if (backend !== "webgpu") {
    it("is null: dispatches are a WebGPU measure", () => {
      expect(countGpuDispatches()).toBeNull();
    });
    return;
  }

  it("counts one dispatch per GPU program: add then matMul is 2", async () => {
    const a = tf.randomUniform([SIDE, SIDE], 0, 1, "float32", 1);
    const b = tf.randomUniform([SIDE, SIDE], 0, 1, "float32", 2);
    await Promise.all([a.data(), b.data()]);
    const counter = countGpuDispatches();
    expect(counter).not.toBeNull();
    const sum = tf.add(a, b);
    const product = tf.matMul(sum, b);
    expect(counter!.count()).toBe(2);
    await product.data();
    counter!.stop();
    // By program: tfjs's add is a "binary" program; the matMul is one program of some kind (tfjs picks which).
    const programs = counter!.byProgram();
    expect(programs.get("binary")).toBe(1);
    expect([...programs.values()].reduce((a, b) => a + b, 0)).toBe(2);
    tf.dispose([a, b, sum, product]);
  });

  it("nested counters count the same dispatches; stopping restores the backend", () => {
    const outer = countGpuDispatches()!;
    const x = tf.fill([SIDE, SIDE], 2);
    const y = tf.mul(x, x);
    const inner = countGpuDispatches()!;
    const z = tf.add(y, x);
    inner.stop();
    const w = tf.sub(z, x);
    expect(inner.count()).toBe(1);
    expect(outer.count() - inner.count()).toBeGreaterThanOrEqual(2);
    outer.stop();
    const before = outer.count();
    tf.dispose([tf.add(w, x), x, y, z, w]);
    expect(outer.count()).toBe(before);
    expect(Object.prototype.hasOwnProperty.call(tf.backend(), "recordAndSubmit")).toBe(false);
  });
});
