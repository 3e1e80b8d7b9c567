import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@llamats/core";
import { describe, expect, it } from "vitest";
import { captureContext } from "../commands/cli-test-context.fixture.js";
import { benchModelConfig, benchPrompt, runGenerateBench } from "./generate.js";
import { readModelShape } from "./shape-options.js";
import { runTransformersGenerate } from "./transformers-generate.js";

const TINY = ["--dim", "64", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--ffn", "172", "--vocab", "256"];
const TINY_SHAPE = { dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 172, vocab: 256 };
const MISSING_MODULE_SCRIPT = fileURLToPath(new URL("../../test-fixtures/python-without-module.py", import.meta.url));

/** Whether a python the peer tries can import torch and transformers: decides what the real peer must report. */
function hasTransformers(): boolean {
  return ["python3", "/usr/bin/python3"].some((python) => {
    try {
      execFileSync(python, ["-c", "import torch, transformers"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  });
}

describe("bench shape options", () => {
  it("defaults to stories15M and reads the TinyLlama-1.1B preset (its config.json's shape)", () => {
    expect(readModelShape({})).toEqual({
      preset: "stories15m",
      name: "stories15m",
      shape: { dim: 288, layers: 6, heads: 6, kvHeads: 6, ffn: 768, vocab: 32000 },
    });
    expect(readModelShape({ shape: "tinyllama" }).shape).toEqual({
      dim: 2048,
      layers: 22,
      heads: 32,
      kvHeads: 4,
      ffn: 5632,
      vocab: 32000,
    });
  });

  it("overrides a preset field by field; new --heads without --kv-heads means multi-head attention", () => {
    expect(readModelShape({ shape: "tinyllama", layers: "2" })).toMatchObject({
      preset: "tinyllama",
      name: "custom",
      shape: { dim: 2048, layers: 2, heads: 32, kvHeads: 4 },
    });
    expect(readModelShape({ dim: "64", heads: "4" }).shape).toMatchObject({ heads: 4, kvHeads: 4 });
    expect(readModelShape({ dim: "64", heads: "4", "kv-heads": "2" }).shape).toMatchObject({ heads: 4, kvHeads: 2 });
  });

  it("rejects an unknown preset, a non-whole number and a shape whose heads do not divide", () => {
    expect(() => readModelShape({ shape: "llama7b" })).toThrow(ConfigError);
    expect(() => readModelShape({ shape: "llama7b" })).toThrow(/--shape must be one of stories15m, tinyllama/);
    expect(() => readModelShape({ dim: "2.5" })).toThrow(/--dim must be a positive whole number; got "2.5"/);
    expect(() => readModelShape({ layers: "0" })).toThrow(/--layers/);
    expect(() => readModelShape({ heads: "5" })).toThrow(/dim 288, heads 5/);
    expect(() => readModelShape({ "kv-heads": "4" })).toThrow(/heads 6, kv heads 4/);
  });

  it("ties embeddings for stories15M only, and sizes positions to the prompt and new tokens", () => {
    const tiny = benchModelConfig(TINY_SHAPE, "stories15m", 40);
    expect(tiny).toMatchObject({ hidden_size: 64, num_key_value_heads: 2, tie_word_embeddings: true });
    expect(tiny.max_position_embeddings).toBe(1024);
    const tinyllama = benchModelConfig(readModelShape({ shape: "tinyllama" }).shape, "tinyllama", 2000);
    expect(tinyllama).toMatchObject({ tie_word_embeddings: false, max_position_embeddings: 2000 });
  });

  it("builds a fixed prompt: BOS, then ids above the special ones, the same every time", () => {
    const prompt = benchPrompt(32, 256);
    expect(prompt).toHaveLength(32);
    expect(prompt[0]).toBe(1);
    for (const id of prompt.slice(1)) expect(id >= 3 && id < 256 && Number.isInteger(id)).toBe(true);
    expect(new Set(prompt.slice(1)).size).toBeGreaterThan(16);
    expect(benchPrompt(32, 256)).toEqual(prompt);
    expect(benchPrompt(1, 32000)).toEqual([1]);
  });
});

describe("bench generate --transformers", () => {
  it("says why the peer did not run when the python is missing or lacks a module", async () => {
    const common = {
      shape: TINY_SHAPE,
      tieEmbeddings: false,
      promptTokens: 4,
      newTokens: 2,
      repeat: 1,
      cwd: process.cwd(),
      signal: new AbortController().signal,
    };
    expect(await runTransformersGenerate({ ...common, pythons: ["/nonexistent/python3"] })).toEqual({
      skipped: "/nonexistent/python3 was not found",
    });
    expect(await runTransformersGenerate({ ...common, script: MISSING_MODULE_SCRIPT, pythons: ["python3"] })).toEqual({
      skipped: "python3 has no llamats_test_absent_module (pip install torch transformers)",
    });
    expect(await runTransformersGenerate({ ...common, script: "/nonexistent/peer.py" })).toEqual({
      skipped: "/nonexistent/peer.py was not found (give --transformers-script)",
    });
  });

  it("reports ours with the prompt length, and transformers' figures or why they are missing", async () => {
    const ctx = captureContext();
    const args = [...TINY, "--prompt-tokens", "5", "--new-tokens", "4", "--repeat", "1", "--backend", "cpu"];
    expect(await runGenerateBench([...args, "--transformers", "--json"], ctx)).toBe(0);
    const report = JSON.parse(ctx.out()) as Record<string, unknown> & {
      transformersSameRun: { skipped?: string; tokensPerS?: number; dtype?: string };
    };
    expect(report).toMatchObject({
      shapeName: "custom",
      modelShape: { ...TINY_SHAPE, tiedEmbeddings: true },
      promptTokens: 5,
      newTokens: 4,
      decoding: "greedy",
      ratioToLlama2cAnchor: null,
      tensorsLeaked: 0,
    });
    expect(report.tokensPerS).toBeGreaterThan(0);
    if (hasTransformers()) {
      expect(report.transformersSameRun).toMatchObject({ dtype: "float32", runs: 1 });
      expect(report.ratioToTransformers).toBeCloseTo(
        (report.tokensPerS as number) / (report.transformersSameRun.tokensPerS as number),
        2,
      );
    } else {
      // This machine's case when written: python3 without transformers (or torch).
      expect(report.transformersSameRun.skipped).toMatch(/has no (torch|transformers)|was not found/);
      expect(report.ratioToTransformers).toBeNull();
    }
    const text = captureContext();
    expect(await runGenerateBench([...args, "--torch", "--python", "/nonexistent/python3"], text)).toBe(0);
    expect(text.out()).toContain("transformers generate(): not run (/nonexistent/python3 was not found)");
    expect(text.out()).toContain("5 prompt tokens, 4 new tokens, greedy");
  }, 120_000);

  it("refuses --sample beside a greedy peer", async () => {
    const ctx = captureContext();
    expect(await runGenerateBench([...TINY, "--transformers", "--sample"], ctx)).toBe(2);
    expect(ctx.err()).toContain("--transformers compare greedy decoding");
  });
});
