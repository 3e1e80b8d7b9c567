import { describe, expect, it } from "vitest";
import { rougeL } from "./rouge-l.js";
import { rougeScoreTokenize, unicodeTokenize } from "./rouge-tokenize.js";

describe("rougeScoreTokenize (rouge_score DefaultTokenizer, no stemmer)", () => {
  it("lowercases, turns non [a-z0-9] runs into spaces and splits", () => {
    expect(rougeScoreTokenize("Don't write 3D-graphs, PLEASE!")).toEqual([
      "don",
      "t",
      "write",
      "3d",
      "graphs",
      "please",
    ]);
    expect(rougeScoreTokenize("Café  naïve résumé")).toEqual(["caf", "na", "ve", "r", "sum"]);
    expect(rougeScoreTokenize("한국어 문장입니다")).toEqual([]);
    expect(rougeScoreTokenize("")).toEqual([]);
  });
});

describe("unicodeTokenize", () => {
  it("keeps words of every script and splits unspaced scripts per character", () => {
    expect(unicodeTokenize("한국어 문장을 요약하세요.")).toEqual(["한국어", "문장을", "요약하세요"]);
    expect(unicodeTokenize("Café naïve")).toEqual(["café", "naïve"]);
    expect(unicodeTokenize("翻译这句话 into English")).toEqual(["翻", "译", "这", "句", "话", "into", "english"]);
    expect(unicodeTokenize("Привет, мир 42")).toEqual(["привет", "мир", "42"]);
  });
});

describe("rougeL", () => {
  it("matches rouge_score's own rougeL test cases (score(target, prediction))", () => {
    // rouge_scorer_test.py: testRougeLConsecutive / testRougeLNonConsecutive / testRougeEmpty.
    expect(rougeL("testing one two", "testing one")).toEqual({ precision: 1, recall: 2 / 3, fmeasure: 0.8 });
    const nonConsecutive = rougeL("testing one two", "testing two");
    expect(nonConsecutive.precision).toBe(1);
    expect(nonConsecutive.recall).toBeCloseTo(2 / 3, 15);
    expect(nonConsecutive.fmeasure).toBeCloseTo(0.8, 15);
    expect(rougeL("testing one two", "")).toEqual({ precision: 0, recall: 0, fmeasure: 0 });
  });

  it("computes P = LCS/|prediction|, R = LCS/|target| with the formula of scoring.fmeasure", () => {
    // target 6 tokens, prediction 4 tokens, LCS "give me a list" → 4: P = 1, R = 4/6.
    const score = rougeL("Give me a list of fruits.", "give me a LIST!");
    const p = 1;
    const r = 4 / 6;
    expect(score).toEqual({ precision: p, recall: r, fmeasure: (2 * p * r) / (p + r) });
    // LCS of "a b c d e" and "b d a e" is 3 ("b d e").
    expect(rougeL("a b c d e", "b d a e").fmeasure).toBe((2 * (3 / 4) * (3 / 5)) / (3 / 4 + 3 / 5));
  });

  it("sees Korean only with the unicode tokenizer", () => {
    expect(rougeL("다음 문장을 영어로 번역하세요", "다음 문장을 영어로 번역하세요").fmeasure).toBe(0);
    expect(
      rougeL("다음 문장을 영어로 번역하세요", "다음 문장을 영어로 번역하세요", { tokenizer: "unicode" }).fmeasure,
    ).toBe(1);
    const partial = rougeL("다음 문장을 영어로 번역하세요", "다음 문장을 일본어로 번역하세요", {
      tokenizer: "unicode",
    });
    expect(partial.fmeasure).toBe(0.75);
  });
});
