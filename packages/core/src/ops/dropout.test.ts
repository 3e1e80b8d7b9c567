import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../backend/test-backends.js";
import { dropoutStreamState, nextDropoutSeed, restoreDropoutStream, seedDropout } from "../dropout-stream.js";
import { ConfigError } from "../errors.js";
import { dropout } from "./dropout.js";
import { dropoutKeeps, dropoutScale, dropoutThreshold, lowbias32 } from "./dropout-mask.js";
import { randomValues, valueAndGrads } from "./test-support.js";

/** x · mask · scale computed element by element in float64 from the mask's definition, then rounded to float32. */
function expected(x: Float32Array, rate: number, seed: number): Float32Array {
  const threshold = dropoutThreshold(rate);
  const scale = dropoutScale(rate);
  return x.map((v, i) => (dropoutKeeps(seed, i, threshold) ? Math.fround(v * scale) : 0));
}

describe("dropout's mask", () => {
  it("is lowbias32 (Wellons' published constants) twice: known answers", () => {
    // Computed independently with Python's unbounded integers masked to 32 bits.
    expect([0, 1, 2, 0xdeadbeef].map(lowbias32)).toEqual([0, 0x688990c0, 0xd1132181, 0xe628c683]);
  });

  it("drops each element with probability rate, independently of its neighbour and of other seeds", () => {
    const n = 1 << 20;
    for (const rate of [0.05, 0.5]) {
      const threshold = dropoutThreshold(rate);
      const a = Array.from({ length: n }, (_, i) => dropoutKeeps(12345, i, threshold));
      const b = Array.from({ length: n }, (_, i) => dropoutKeeps(12346, i, threshold));
      const kept = a.filter(Boolean).length / n;
      const sigma = Math.sqrt((rate * (1 - rate)) / n);
      expect(Math.abs(1 - rate - kept)).toBeLessThan(5 * sigma);
      // Pairs (i, i+1) in one mask and (i, i) across two seeds are both kept (1 − rate)² of the time.
      const both = (x: boolean[], y: boolean[], shift: number) =>
        x.slice(0, n - shift).filter((v, i) => v && y[i + shift]).length / (n - shift);
      const pairSigma = Math.sqrt(((1 - rate) ** 2 * (1 - (1 - rate) ** 2)) / n);
      expect(Math.abs(both(a, a, 1) - (1 - rate) ** 2)).toBeLessThan(5 * pairSigma);
      expect(Math.abs(both(a, b, 0) - (1 - rate) ** 2)).toBeLessThan(5 * pairSigma);
    }
  });

  it("comes from a stream that gives a new seed each call and replays from a saved state", () => {
    seedDropout(7);
    const saved = dropoutStreamState();
    const first = [nextDropoutSeed(), nextDropoutSeed(), nextDropoutSeed()];
    expect(new Set(first).size).toBe(3);
    restoreDropoutStream(saved);
    expect([nextDropoutSeed(), nextDropoutSeed(), nextDropoutSeed()]).toEqual(first);
    seedDropout(8);
    expect(nextDropoutSeed()).not.toBe(first[0]);
    for (const seed of first) expect(seed >>> 0).toBe(seed);
  });
});

describe.each(TEST_BACKENDS)("dropout on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it("is x · mask / (1 − rate) with the mask hashed from (seed, index): the same bits on every backend", async () => {
    // Sizes that are not multiples of the workgroup.
    const shape = [7, 10001];
    const values = randomValues(7 * 10001, 3, 4);
    const x = tf.tensor(values, shape);
    for (const [rate, seed] of [
      [0.05, 0],
      [0.3, 0xfffffffe],
      [0.9, 123456789],
    ]) {
      const y = dropout(x, { rate, seed });
      expect(y.shape).toEqual(shape);
      expect(Array.from(await y.data())).toEqual(Array.from(expected(values, rate, seed)));
      y.dispose();
    }
    x.dispose();
  });

  it("has the gradient dy · mask / (1 − rate), the forward's mask again", async () => {
    const values = randomValues(3 * 37, 5, 2);
    const x = tf.tensor(values, [3, 37]);
    const got = await valueAndGrads((a) => dropout(a, { rate: 0.25, seed: 99 }), [x], 11);
    const cotangent = randomValues(3 * 37, 11);
    expect(Array.from(got.value)).toEqual(Array.from(expected(values, 0.25, 99)));
    expect(Array.from(got.grads[0])).toEqual(Array.from(expected(cotangent, 0.25, 99)));
    x.dispose();
  });

  it("is the identity at rate 0 and refuses a rate outside [0, 1) or a seed that is not 32 bits", async () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor([1, -2, 3]);
    const y = dropout(x, { rate: 0, seed: 1 });
    expect(Array.from(await y.data())).toEqual([1, -2, 3]);
    for (const bad of [
      { rate: 1, seed: 1 },
      { rate: -0.1, seed: 1 },
      { rate: Number.NaN, seed: 1 },
      { rate: 0.1, seed: -1 },
      { rate: 0.1, seed: 2 ** 32 },
      { rate: 0.1, seed: 0.5 },
    ])
      expect(() => dropout(x, bad)).toThrow(ConfigError);
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
