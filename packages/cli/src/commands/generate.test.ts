import { mkdtemp, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { initBackend } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";
import { captureContext } from "./cli-test-context.fixture.js";

const CONFIG = {
  model_type: "llama",
  vocab_size: 64,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  max_position_embeddings: 64,
  initializer_range: 0.5,
  bos_token_id: 1,
  eos_token_id: 2,
};

let work: string;
let modelDir: string;
let expected: number[];

describe("llamats generate", () => {
  beforeAll(async () => {
    await initBackend({ backend: "cpu" });
    work = await mkdtemp(join(tmpdir(), "llamats-generate-"));
    modelDir = join(work, "model");
    const model = LlamaForCausalLM.fromConfig(CONFIG, { seed: 5 });
    await model.savePretrained(modelDir);
    expected = (await model.generate([1, 7, 9], { maxNewTokens: 6, eosTokenId: [] }))[0];
    model.dispose();
    await writeFile(join(modelDir, "generation_config.json"), JSON.stringify({ eos_token_id: 63 }));
  }, 60_000);
  afterAll(() => rm(work, { recursive: true, force: true }));

  it("greedy-decodes ids from a model folder without tokenizer files", async () => {
    const ctx = captureContext();
    const code = await runCli(
      ["generate", modelDir, "--ids", "1,7,9", "--max-new-tokens", "6", "--backend", "cpu"],
      ctx,
    );
    expect(ctx.err()).toBe("");
    expect(code).toBe(0);
    const got = ctx.out().trim().split(" ").map(Number);
    // generation_config.json's eos (63) may end it early; the ids agree up to there.
    expect(got).toEqual(expected.slice(0, got.length));
    expect(got.length === expected.length || got[got.length - 1] === 63).toBe(true);
  }, 60_000);

  it("fails with one clear line naming the file for a truncated checkpoint", async () => {
    const broken = join(work, "broken");
    const model = LlamaForCausalLM.fromConfig(CONFIG, { seed: 5 });
    await model.savePretrained(broken);
    model.dispose();
    await truncate(join(broken, "model.safetensors"), 2000);
    const ctx = captureContext();
    const code = await runCli(["generate", broken, "--ids", "1", "--backend", "cpu"], ctx);
    expect(code).not.toBe(0);
    expect(ctx.err()).toContain("model.safetensors");
    expect(ctx.err()).not.toMatch(/\n\s+at /);
  }, 60_000);

  it("fails naming the tensor when config.json does not match the weights", async () => {
    const mismatched = join(work, "mismatch");
    const model = LlamaForCausalLM.fromConfig(CONFIG, { seed: 5 });
    await model.savePretrained(mismatched);
    model.dispose();
    await writeFile(join(mismatched, "config.json"), JSON.stringify({ ...CONFIG, intermediate_size: 32 }));
    const ctx = captureContext();
    const code = await runCli(["generate", mismatched, "--ids", "1", "--backend", "cpu"], ctx);
    expect(code).toBe(1);
    expect(ctx.err()).toMatch(/model\.layers\.0\.mlp\.\w+_proj\.weight/);
    expect(ctx.err().trim().split("\n")).toHaveLength(1);
  }, 60_000);

  it("rejects a bad option value with the option named", async () => {
    const ctx = captureContext();
    const code = await runCli(["generate", modelDir, "--ids", "1", "--top-p", "2", "--backend", "cpu"], ctx);
    expect(code).toBe(1);
    expect(ctx.err()).toContain("--top-p");
  });
});
