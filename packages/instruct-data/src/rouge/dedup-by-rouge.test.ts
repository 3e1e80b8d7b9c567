import { describe, expect, it } from "vitest";
import { dedupByRouge } from "./dedup-by-rouge.js";
import { rougeL } from "./rouge-l.js";
import { RougeSimilarityIndex, topScores } from "./rouge-similarity-index.js";
import { syntheticInstructions } from "./synthetic-instructions.js";

// The obvious greedy dedup, pair by pair with rougeL: what the fast path must agree with.
function naiveDedup(texts: string[], threshold: number, reference: string[] = []): number[] {
  const kept: string[] = [...reference];
  const keptIndices: number[] = [];
  texts.forEach((text, i) => {
    if (kept.some((k) => rougeL(text, k).fmeasure > threshold)) return;
    kept.push(text);
    keptIndices.push(i);
  });
  return keptIndices;
}

describe("dedupByRouge", () => {
  it("keeps exactly what pairwise rougeL keeps, with length pruning and long (multi-word) texts", () => {
    const texts = syntheticInstructions({ count: 160, seed: 5 });
    const long = Array.from({ length: 8 }, (_, i) => `${texts[i]} ${texts[i + 1]} ${texts[i + 2]}`);
    const all = [...texts, ...long, ...long.map((t) => t.replace(/\w+\.$/, "extra."))];
    for (const threshold of [0.5, 0.7]) {
      const { kept, duplicates } = dedupByRouge(all, { threshold });
      expect(kept).toEqual(naiveDedup(all, threshold));
      for (const d of duplicates.slice(0, 20))
        expect(d.score).toBe(rougeL(all[d.index] as string, d.duplicateOf).fmeasure);
    }
  }, 30_000);

  it("compares with reference texts too, and flags a near-duplicate", () => {
    const { kept, duplicates } = dedupByRouge(
      ["Give three tips for staying healthy.", "Give three tips for staying healthy!", "Name a color."],
      {
        reference: ["Give 3 tips for staying healthy today."],
      },
    );
    expect(kept).toEqual([2]);
    expect(duplicates.map((d) => d.duplicateOf)).toEqual([
      "Give 3 tips for staying healthy today.",
      "Give 3 tips for staying healthy today.",
    ]);
  });
});

describe("RougeSimilarityIndex.scoreAll / topScores", () => {
  it("scores against every text as rougeL does and orders the best first", () => {
    const index = new RougeSimilarityIndex();
    const texts = ["write a poem about the sea", "write a story", "translate this text", "write a poem"];
    for (const t of texts) index.add(t);
    const scores = index.scoreAll("Write a poem about love");
    expect(Array.from(scores)).toEqual(texts.map((t) => rougeL("Write a poem about love", t).fmeasure));
    // "write a poem": LCS 3 of 5 + 3 tokens → 0.75; "… about the sea": LCS 4 of 5 + 6 → 0.727.
    expect(topScores(scores, 2).map((s) => s.index)).toEqual([3, 0]);
  });
});
