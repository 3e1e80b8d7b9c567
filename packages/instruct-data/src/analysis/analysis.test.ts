import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { clusterInstructions, formatClusterReport } from "./cluster-instructions.js";
import { datasetStats } from "./dataset-stats.js";
import { verbNounSunburstSvg } from "./sunburst-svg.js";
import { analyzeVerbNoun, extractVerbNoun } from "./verb-noun.js";

const SEED_INSTRUCTIONS = readFileSync(new URL("../../test-fixtures/alpaca/seed_tasks.jsonl", import.meta.url), "utf8")
  .trim()
  .split("\n")
  .map((l) => (JSON.parse(l) as { instruction: string }).instruction);

describe("extractVerbNoun", () => {
  it.each([
    ["Write a short story about a dragon.", "write", "story"],
    ["Come up with a list of healthy snacks.", "come", "list"],
    ["Give me three tips for studying.", "give", "tip"],
    ["Generate 5 creative names for a cafe", "generate", "name"],
    ["Rewrite the following sentence in passive voice.", "rewrite", "sentence"],
    ["Given a paragraph, summarize its main points.", "summarize", "point"],
    ["Explain how vaccines work.", "explain", null],
  ])("%s → %s / %s", (text, verb, noun) => {
    expect(extractVerbNoun(text)).toEqual({ verb, noun });
  });

  it("returns null for questions", () => {
    expect(extractVerbNoun("What is the capital of France?")).toBeNull();
  });
});

describe("analyzeVerbNoun + sunburst", () => {
  it("counts verbs and nouns and draws an SVG with a wedge per verb and noun", () => {
    const analysis = analyzeVerbNoun([
      "Write a poem.",
      "Write a poem about cats.",
      "Write an essay.",
      "Give three tips.",
      "Why?",
    ]);
    expect(analysis).toEqual({
      total: 5,
      parsed: 4,
      verbs: [
        {
          verb: "write",
          count: 3,
          nouns: [
            { noun: "poem", count: 2 },
            { noun: "essay", count: 1 },
          ],
        },
        { verb: "give", count: 1, nouns: [{ noun: "tip", count: 1 }] },
      ],
    });
    const svg = verbNounSunburstSvg(analysis);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(5);
    expect(svg).toContain("<title>write poem: 2</title>");
  });

  it("finds verbs in most of the Alpaca seed instructions", () => {
    const analysis = analyzeVerbNoun(SEED_INSTRUCTIONS);
    expect(analysis.parsed).toBeGreaterThan(60);
    expect(analysis.verbs.slice(0, 8).map((v) => v.verb)).toContain("write");
  });
});

describe("clusterInstructions", () => {
  const topics = [
    [
      "Translate this sentence into French.",
      "Translate the word hello into Spanish.",
      "Translate the paragraph into German.",
      "Translate this phrase into Italian.",
    ],
    [
      "Write a poem about the ocean.",
      "Write a poem about autumn trees.",
      "Write a short poem about love.",
      "Write a funny poem about cats.",
    ],
    [
      "Calculate the sum of these numbers.",
      "Calculate the average of the numbers.",
      "Calculate the product of the numbers below.",
      "Calculate the numbers total.",
    ],
  ];
  it("separates clearly different tasks with a chosen or automatic k", () => {
    const texts = topics.flat();
    for (const k of [3, "auto"] as const) {
      const result = clusterInstructions(texts, { k, seed: 1 });
      expect(result.k).toBe(3);
      const groups = result.clusters.map((c) => c.members.map((i) => Math.floor(i / 4))).map((g) => new Set(g).size);
      expect(groups).toEqual([1, 1, 1]);
      expect(result.clusters.map((c) => c.size)).toEqual([4, 4, 4]);
    }
    const report = formatClusterReport(clusterInstructions(texts, { k: 3, seed: 1 }), texts.length);
    expect(report).toMatch(/## translate/);
  });
});

describe("datasetStats", () => {
  it("counts inputs, duplicates and token lengths over the cutoff", () => {
    const stats = datasetStats(
      [
        { instruction: "a b", input: "", output: "c" },
        { instruction: "a b", input: "", output: "d e f" },
        { instruction: "x", input: "y", output: "" },
        {
          messages: [
            { role: "user", content: "hi" },
            { role: "assistant", content: "yo" },
          ],
        },
      ],
      { tokenLengths: [10, 20, 300, 40], cutoffLen: 256 },
    );
    expect(stats).toMatchObject({
      records: 4,
      kinds: { alpaca: 3, chat: 1, tokenized: 0 },
      withInput: 1,
      emptyOutput: 1,
      exactDuplicates: 1,
      overCutoff: 1,
    });
    expect(stats.words?.output).toMatchObject({ min: 0, max: 3, mean: 4 / 3 });
  });
});
