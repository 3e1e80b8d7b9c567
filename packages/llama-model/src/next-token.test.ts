import * as tf from "@tensorflow/tfjs-core";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { processLogits, type LogitsProcessingOptions } from "./logits-processors.js";
import { chooseNextTokens } from "./next-token.js";
import { argmax, sampleFromLogits, seededRandom } from "./sampling.js";

const VOCAB = 300;
const BATCH = 3;

/**
 * Spread-out logits; with `ties`, rounded so that equal scores occur (argmax and top-k must keep HF's tie rules).
 * Greedy and top-p are checked without ties: which of two equal scores wins follows the backend's kernel.
 */
function randomLogits(seed: number, ties = true): Float32Array {
  const random = seededRandom(seed);
  const values = new Float32Array(BATCH * VOCAB);
  for (let i = 0; i < values.length; i++)
    values[i] = ties ? Math.round((random() * 8 - 4) * 64) / 64 : random() * 8 - 4;
  return values;
}

/** The host reference: HF's processors in float64, then argmax or an inverse-CDF draw with the same uniforms. */
function hostChoice(
  logits: Float32Array,
  seen: number[][],
  options: LogitsProcessingOptions,
  sampling: boolean,
  uniforms: number[],
): number[] {
  return seen.map((row, b) => {
    const scores = logits.slice(b * VOCAB, (b + 1) * VOCAB);
    processLogits(scores, row, options, sampling);
    return sampling ? sampleFromLogits(scores, () => uniforms[b]) : argmax(scores);
  });
}

const CASES: { name: string; options: LogitsProcessingOptions; sampling: boolean; ties?: boolean }[] = [
  { name: "greedy", options: {}, sampling: false, ties: false },
  { name: "greedy with repetition penalty", options: { repetitionPenalty: 1.7 }, sampling: false, ties: false },
  { name: "temperature", options: { temperature: 0.7 }, sampling: true },
  { name: "top-k", options: { topK: 5 }, sampling: true },
  { name: "top-p", options: { topP: 0.6 }, sampling: true, ties: false },
  {
    name: "everything",
    options: { repetitionPenalty: 1.3, temperature: 1.4, topK: 40, topP: 0.9 },
    sampling: true,
    ties: false,
  },
];

describe.each(TEST_BACKENDS)("chooseNextTokens on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(CASES)("$name matches the host processors", async ({ options, sampling, ties }) => {
    const seen = [[1, 2, 3, 250], [7, 7, 9], []];
    for (let seed = 1; seed <= 4; seed++) {
      const values = randomLogits(seed, ties ?? true);
      const random = seededRandom(seed * 101);
      const uniforms = [random(), random(), random()];
      const before = tf.memory().numTensors;
      const logits = tf.tensor2d(values, [BATCH, VOCAB]);
      const chosen = chooseNextTokens(logits, { ...options, sampling, seenIds: seen, uniforms });
      const got = Array.from(await chosen.data());
      tf.dispose([logits, chosen]);
      expect(tf.memory().numTensors).toBe(before);
      expect(got).toEqual(hostChoice(values, seen, options, sampling, uniforms));
    }
  });

  it("never draws an id that top-k removed, even for u close to 1", async () => {
    const values = randomLogits(9);
    const logits = tf.tensor2d(values, [BATCH, VOCAB]);
    const chosen = chooseNextTokens(logits, {
      topK: 1,
      sampling: true,
      seenIds: [],
      uniforms: [0.999999, 0.9999999, 0],
    });
    const got = Array.from(await chosen.data());
    tf.dispose([logits, chosen]);
    expect(got).toEqual(hostChoice(values, [[], [], []], {}, false, []));
  });
});
