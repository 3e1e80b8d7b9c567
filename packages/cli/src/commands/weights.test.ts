import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, initBackend } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";
import { parseWeightsOption } from "../weights-option.js";
import { captureContext } from "./cli-test-context.fixture.js";

// Golden fixtures live with @llamats/trainer (copied unchanged from shared/fixtures; see its test-fixtures/README.md).
const FIXTURES = fileURLToPath(new URL("../../../trainer/test-fixtures", import.meta.url));

/** Every projection's in-features a multiple of 64: packs as bf16, int8 and nf4. */
const CONFIG = {
  model_type: "llama",
  vocab_size: 64,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  max_position_embeddings: 64,
  initializer_range: 0.5,
  bos_token_id: 1,
  eos_token_id: 2,
};

describe("--weights / --quantize / --base-dtype", () => {
  let work: string;
  let modelDir: string;
  beforeAll(async () => {
    await initBackend({ backend: "cpu" });
    work = await mkdtemp(join(tmpdir(), "llamats-weights-"));
    modelDir = join(work, "model");
    const model = LlamaForCausalLM.fromConfig(CONFIG, { seed: 5 });
    await model.savePretrained(modelDir);
    model.dispose();
  }, 60_000);
  afterAll(() => rm(work, { recursive: true, force: true }));

  it("parses the formats and their spellings, and names the option and the choices otherwise", () => {
    expect(parseWeightsOption("bf16", "--weights")).toBe("bfloat16");
    expect(parseWeightsOption("int8", "--weights")).toBe("int8");
    expect(parseWeightsOption(undefined, "--weights")).toBeUndefined();
    expect(() => parseWeightsOption("int4", "--weights")).toThrow(ConfigError);
    expect(() => parseWeightsOption("bf16", "--quantize", ["nf4", "int8"])).toThrow(
      /--quantize must be one of nf4, int8; got "bf16"/,
    );
  });

  it.each(["int8", "nf4", "bf16"])(
    "generate --weights %s decodes what the library's packed model decodes",
    async (w) => {
      const model = await LlamaForCausalLM.fromPretrained(modelDir, {
        weights: parseWeightsOption(w, "--weights")!,
      });
      const expected = (await model.generate([1, 7, 9], { maxNewTokens: 6, eosTokenId: [] }))[0];
      model.dispose();
      const ctx = captureContext();
      const code = await runCli(
        ["generate", modelDir, "--ids", "1,7,9", "--max-new-tokens", "6", "--weights", w, "--backend", "cpu"],
        ctx,
      );
      expect(ctx.err()).toBe("");
      expect(code).toBe(0);
      expect(ctx.out().trim().split(" ").map(Number)).toEqual(expected);
    },
    60_000,
  );

  it("generate rejects an unknown format in one line", async () => {
    const ctx = captureContext();
    const code = await runCli(["generate", modelDir, "--ids", "1", "--weights", "int4", "--backend", "cpu"], ctx);
    expect(code).toBe(1);
    expect(ctx.err().trim()).toMatch(/^llamats generate: --weights must be one of .*got "int4"/);
    expect(ctx.err().trim().split("\n")).toHaveLength(1);
  });

  it("finetune refuses --quantize with --base-dtype, and --full on a frozen packed base", async () => {
    for (const args of [
      ["--quantize", "nf4", "--base-dtype", "bfloat16"],
      ["--full", "--quantize", "int8"],
      ["--quantize", "bf16"],
    ]) {
      const ctx = captureContext();
      const code = await runCli(
        ["finetune", "--model", modelDir, "--data", join(work, "none.json"), "--backend", "cpu", ...args],
        ctx,
      );
      expect(code, args.join(" ")).not.toBe(0);
      expect(ctx.err(), args.join(" ")).toMatch(/--quantize|--full/);
      expect(ctx.err()).not.toMatch(/\n\s+at /);
    }
  });

  it("finetune --quantize nf4 trains LoRA on an NF4 base (losses near the float32 run's); merge --weights nf4 notes the dequantization", async () => {
    const trajectory = JSON.parse(await readFile(join(FIXTURES, "lora-trajectory", "trajectory.json"), "utf8")) as {
      examples: { input_ids: number[]; labels: number[] }[];
    };
    const data = join(work, "data.jsonl");
    await writeFile(
      data,
      trajectory.examples
        .slice(0, 8)
        .map((e) => `${JSON.stringify(e)}\n`)
        .join(""),
    );
    const run = async (extra: string[], out: string) => {
      const ctx = captureContext();
      const code = await runCli(
        [
          "finetune",
          "--model",
          join(FIXTURES, "llama1-tiny"),
          "--data",
          data,
          "--out",
          out,
          "--lora-r",
          "4",
          "--micro-batch-size",
          "2",
          "--batch-size",
          "4",
          "--val-set-size",
          "2",
          "--max-steps",
          "3",
          "--warmup-steps",
          "0",
          "--backend",
          "wasm",
          ...extra,
        ],
        ctx,
      );
      expect(code, ctx.err()).toBe(0);
      const lines = (await readFile(join(out, "metrics.jsonl"), "utf8")).trim().split("\n");
      return lines.map((l) => JSON.parse(l) as { loss: number; eval?: boolean }).filter((m) => !m.eval);
    };
    const float32 = await run([], join(work, "f32"));
    const nf4 = await run(["--quantize", "nf4"], join(work, "nf4"));
    expect(nf4.length).toBe(3);
    // llama1-tiny's FFN of 172 is not whole NF4 blocks: down_proj stays float32, the other six projections are NF4.
    for (const [i, m] of nf4.entries())
      expect(Math.abs(m.loss - float32[i].loss) / float32[i].loss, `step ${i + 1}`).toBeLessThan(0.05);
    const ctx = captureContext();
    const merged = join(work, "merged");
    const code = await runCli(
      [
        "merge",
        join(FIXTURES, "llama1-tiny"),
        join(work, "nf4"),
        "--out",
        merged,
        "--weights",
        "nf4",
        "--backend",
        "cpu",
      ],
      ctx,
    );
    expect(code, ctx.err()).toBe(0);
    expect(ctx.err()).toMatch(/note: 4 nf4 base projections were dequantized to float32/);
    const reloaded = await LlamaForCausalLM.fromPretrained(merged);
    expect(reloaded.packedWeights().size).toBe(0);
    reloaded.dispose();
  }, 180_000);
});
