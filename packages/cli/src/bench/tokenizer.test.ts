import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@llamats/core";
import { describe, expect, it } from "vitest";
import { captureContext } from "../commands/cli-test-context.fixture.js";
import { brownLines, untagBrownSentence } from "./brown-lines.js";
import { runTokenizerBench } from "./tokenizer.js";

interface Comparison {
  ratio: number;
  mismatchedLines: { lines: number; first: string | null };
}
interface TokenizerReport {
  lines: number;
  distinctLines: number;
  results: { name: string; tokens: number; tokensPerS: number }[];
  comparisons: Record<string, Comparison | null>;
  notes: string[];
}

describe("the tokenizer benchmark's text", () => {
  it("untags a Brown Corpus sentence into plain English", () => {
    expect(untagBrownSentence("\tThe/at jury/nn ,/, ``/`` deserves/vbz the/at praise/nn ''/'' ./.\n")).toBe(
      'The jury, "deserves the praise".',
    );
    expect(untagBrownSentence("It/pps doesn't/doz* hold/vb (/( see/vb above/rb )/) ;/.")).toBe(
      "It doesn't hold (see above);",
    );
  });

  it("gives more than 25,000 distinct sentences with no tags left", () => {
    const lines = brownLines();
    expect(lines.length).toBeGreaterThan(25_000);
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.filter((l) => /\w\/(at|nn|vbd|in)(\s|$)/.test(l))).toEqual([]);
  });
});

describe("llamats bench tokenizer", () => {
  it("measures every encoder on the same distinct lines and finds the same ids as the peers", async () => {
    const ctx = captureContext();
    const code = await runTokenizerBench(["--warmup", "100", "--count", "400", "--rounds", "1", "--json"], ctx);
    expect(code).toBe(0);
    const report = JSON.parse(ctx.out()) as TokenizerReport;
    expect(report.lines).toBe(400);
    expect(report.distinctLines).toBe(400);
    const names = report.results.map((r) => r.name);
    expect(names).toContain("@huggingface/tokenizers (tokenizer-sp-hf)");
    for (const r of report.results) expect(r.tokens).toBeGreaterThan(400);
    expect(report.comparisons.spHfJsonVsHuggingfaceTokenizers?.mismatchedLines.lines).toBe(0);
    expect(report.comparisons.byteLevelJsonVsHuggingfaceTokenizers?.mismatchedLines.lines).toBe(0);
    // SentencePiece C++ runs where Debian's python3-sentencepiece is installed; elsewhere the report says why.
    const sp = report.comparisons.tokenizerModelVsSentencePieceCpp;
    if (sp) expect(sp.mismatchedLines.lines).toBe(0);
    else expect(report.notes.join("\n")).toMatch(/SentencePiece C\+\+ not run: .+/);
    if (!sp) console.warn(`bench tokenizer: ${report.notes.join("; ")}`);
  }, 120_000);

  it("refuses a text with fewer lines than --warmup + --count, naming the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "llamats-bench-lines-"));
    try {
      const file = join(dir, "few.txt");
      await writeFile(file, "one\ntwo\nthree\n");
      const run = runTokenizerBench(["--lines", file, "--warmup", "2", "--count", "5"], captureContext());
      await expect(run).rejects.toThrow(ConfigError);
      await expect(run).rejects.toThrow(/few\.txt has 3 lines; --warmup 2 \+ --count 5 need 7/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("ships its SentencePiece peer script", () => {
    expect(existsSync(new URL("../../bench-references/sp_encode_lines.py", import.meta.url))).toBe(true);
    expect(existsSync(new URL("../../bench-references/torch_cpu_lora.py", import.meta.url))).toBe(true);
  });
});
