import { describe, expect, it } from "vitest";
import { seededRandom } from "../util/seeded-random.js";
import { LcsMatcher, lcsLength, lcsLengthTable } from "./lcs.js";

function randomSequence(random: () => number, length: number, alphabet: number): number[] {
  return Array.from({ length }, () => Math.floor(random() * alphabet));
}

describe("lcsLength (bit-parallel)", () => {
  it("gives the textbook lengths on small cases", () => {
    // rouge_score's own _lcs_table test: [1,2,3,4,5] vs [2,5,3,4] → 3; disjoint → 0.
    expect(lcsLength([1, 2, 3, 4, 5], [2, 5, 3, 4])).toBe(3);
    expect(lcsLength([1, 2, 3, 4, 5], [8, 9])).toBe(0);
    expect(lcsLength([], [1])).toBe(0);
    expect(lcsLength([7, 7, 7], [7, 7])).toBe(2);
  });

  it("equals the dynamic programme on random sequences across word boundaries", () => {
    const random = seededRandom(1);
    for (const [m, n] of [
      [5, 9],
      [31, 40],
      [32, 32],
      [33, 20],
      [64, 70],
      [65, 3],
      [150, 160],
      [200, 17],
    ] as const) {
      for (let trial = 0; trial < 10; trial++) {
        const a = randomSequence(random, m, 6 + trial);
        const b = randomSequence(random, n, 6 + trial);
        expect(lcsLength(a, b)).toBe(lcsLengthTable(a, b));
      }
    }
  });

  it("reuses one pattern against many texts and forgets it when cleared", () => {
    const matcher = new LcsMatcher();
    matcher.setPattern([3, 1, 4, 1, 5]);
    const text = [9, 3, 1, 4, 2, 1, 5, 1];
    expect(matcher.lcsWith(text, 0, text.length)).toBe(5);
    expect(matcher.lcsWith(text, 3, 6)).toBe(2);
    matcher.setPattern([2, 2]);
    expect(matcher.lcsWith(text, 0, text.length)).toBe(1);
  });
});
