import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openSafetensors } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";
import { captureContext } from "./cli-test-context.fixture.js";

// Golden fixtures live with @llamats/trainer (copied unchanged from shared/fixtures; see its test-fixtures/README.md).
const FIXTURES = fileURLToPath(new URL("../../../trainer/test-fixtures", import.meta.url));
const TINY = join(FIXTURES, "llama1-tiny");

// Stanford Alpaca records (instruction, optional input, output), tokenized by the run with llama1-tiny's tokenizer.
const ALPACA = [
  {
    instruction: "Give three tips for staying healthy.",
    input: "",
    output: "Eat a balanced diet, exercise regularly and sleep enough.",
  },
  { instruction: "What are the three primary colors?", input: "", output: "Red, blue and yellow." },
  { instruction: "Translate the sentence into French.", input: "The cat sleeps.", output: "Le chat dort." },
  {
    instruction: "Summarize the text.",
    input: "The meeting was moved from Monday to Tuesday because of the holiday.",
    output: "The meeting is now on Tuesday.",
  },
  { instruction: "Name a mammal that can fly.", input: "", output: "The bat." },
  { instruction: "Add the numbers.", input: "2 and 3", output: "5" },
  {
    instruction: "Write a haiku about rain.",
    input: "",
    output: "Soft rain on the roof, / the garden drinks in silence, / puddles hold the sky.",
  },
  { instruction: "Classify the word as a noun or a verb.", input: "run", output: "It can be both." },
];

interface MetricsLine {
  step: number;
  eval?: boolean;
  loss: number;
  tokens: number;
  input_tokens?: number;
}

async function readMetrics(out: string): Promise<MetricsLine[]> {
  return (await readFile(join(out, "metrics.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as MetricsLine);
}

async function tensorNames(file: string): Promise<Map<string, number[]>> {
  const reader = await openSafetensors(file);
  const shapes = new Map(reader.names().map((name) => [name, reader.info(name).shape.slice()]));
  await reader.close();
  return shapes;
}

/** A short run on the text records: 6 train / 2 validation, micro-batches of 2, 2 optimizer steps. */
const SHORT_RUN = [
  "--template",
  "alpaca",
  "--cutoff-len",
  "64",
  "--micro-batch-size",
  "2",
  "--batch-size",
  "4",
  "--val-set-size",
  "2",
  "--max-steps",
  "2",
  "--warmup-steps",
  "0",
  "--backend",
  "wasm",
];

describe("llamats finetune", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "llamats-finetune-"));
    const trajectory = JSON.parse(await readFile(join(FIXTURES, "lora-trajectory", "trajectory.json"), "utf8")) as {
      examples: { input_ids: number[]; labels: number[] }[];
    };
    const lines = trajectory.examples
      .slice(0, 8)
      .map((e) => JSON.stringify({ input_ids: e.input_ids, labels: e.labels }));
    await writeFile(join(dir, "data.jsonl"), `${lines.join("\n")}\n`);
    await writeFile(join(dir, "alpaca.json"), JSON.stringify(ALPACA, null, 1));
    await writeFile(
      join(dir, "run.json"),
      JSON.stringify({
        loraR: 4,
        lora_alpha: 8,
        "target-modules": ["q_proj", "v_proj"],
        microBatchSize: 2,
        batchSize: 4,
        valSetSize: 2,
        maxSteps: 2,
        warmupSteps: 0,
        saveSteps: 1,
      }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("trains on pre-tokenized JSONL with a config file and writes the adapter, checkpoints, metrics and curve", async () => {
    const ctx = captureContext();
    const out = join(dir, "out");
    const code = await runCli(
      [
        "finetune",
        "--model",
        join(FIXTURES, "llama1-tiny"),
        "--data",
        join(dir, "data.jsonl"),
        "--out",
        out,
        "--config",
        join(dir, "run.json"),
        "--backend",
        "wasm",
      ],
      ctx,
    );
    expect(ctx.err()).toContain("6 training / 2 validation examples");
    expect(code).toBe(0);
    expect((await readdir(out)).sort()).toEqual([
      "adapter_config.json",
      "adapter_model.safetensors",
      "checkpoint-1",
      "checkpoint-2",
      "loss_curve.svg",
      "metrics.jsonl",
      "training_args.json",
    ]);
    const config = JSON.parse(await readFile(join(out, "adapter_config.json"), "utf8")) as {
      r: number;
      lora_alpha: number;
    };
    expect([config.r, config.lora_alpha]).toEqual([4, 8]);
    const metrics = (await readFile(join(out, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(metrics.filter((m) => !m.eval).map((m) => m.step)).toEqual([1, 2]);
    expect(metrics.some((m) => m.eval === true && typeof m.perplexity === "number")).toBe(true);
    expect(ctx.out()).toContain("adapter written to");
  }, 120_000);

  it("tokenizes Alpaca text records with --template and the model tokenizer, and trains a LoRA adapter", async () => {
    const ctx = captureContext();
    const out = join(dir, "text-lora");
    const code = await runCli(
      [
        "finetune",
        "--model",
        TINY,
        "--data",
        join(dir, "alpaca.json"),
        "--out",
        out,
        "--lora-r",
        "4",
        "--lora-alpha",
        "8",
        ...SHORT_RUN,
      ],
      ctx,
    );
    expect(ctx.err()).toContain("6 training / 2 validation examples");
    expect(code).toBe(0);
    expect((await readdir(out)).sort()).toEqual([
      "adapter_config.json",
      "adapter_model.safetensors",
      "checkpoint-2",
      "loss_curve.svg",
      "metrics.jsonl",
      "prompt_template.json",
      "training_args.json",
    ]);
    // The run's record, for the model card `llamats push` writes.
    expect(JSON.parse(await readFile(join(out, "training_args.json"), "utf8"))).toMatchObject({
      base_model: TINY,
      method: "lora",
      dataset: { name: join(dir, "alpaca.json"), source: "local", split: "train", format: "alpaca" },
      template: "alpaca",
      cutoff_len: 64,
      learning_rate: 3e-4,
      micro_batch_size: 2,
      batch_size: 4,
      max_steps: 2,
      warmup_steps: 0,
      backend: "wasm",
    });
    // The template it trained with, for `export gguf --ollama`: alpaca-lora's alpaca.json.
    const recorded = JSON.parse(await readFile(join(out, "prompt_template.json"), "utf8")) as Record<string, string>;
    expect(recorded.name).toBe("alpaca");
    expect(recorded.prompt_no_input).toBe(
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n",
    );
    // q_proj and v_proj (the default targets) in both layers, A and B each, rank 4 on hidden 64.
    const shapes = await tensorNames(join(out, "adapter_model.safetensors"));
    expect(shapes.size).toBe(8);
    expect(shapes.get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")).toEqual([4, 64]);
    expect(shapes.get("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight")).toEqual([64, 4]);
    const metrics = await readMetrics(out);
    const steps = metrics.filter((m) => !m.eval);
    expect(steps.map((m) => m.step)).toEqual([1, 2]);
    for (const m of metrics) {
      expect(Number.isFinite(m.loss) && m.loss > 0).toBe(true);
      expect(m.tokens).toBeGreaterThan(0);
    }
    // Training on inputs (the default): every token after the first of each example is a target.
    // One epoch of 6 examples in steps of 4: the second step holds the last 2.
    expect(steps.map((m) => (m.input_tokens as number) - m.tokens)).toEqual([4, 2]);
    expect(metrics.filter((m) => m.eval).length).toBe(1);
    expect(ctx.out()).toContain("adapter written to");
  }, 120_000);

  it("--full trains every parameter and writes a model folder that loads again, with the tokenizer", async () => {
    const ctx = captureContext();
    const out = join(dir, "text-full");
    const code = await runCli(
      [
        "finetune",
        "--model",
        TINY,
        "--data",
        join(dir, "alpaca.json"),
        "--out",
        out,
        "--full",
        "--lr",
        "1e-3",
        ...SHORT_RUN,
      ],
      ctx,
    );
    expect(ctx.err()).toMatch(/full fine-tuning: [\d,]+ parameters/);
    expect(code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(
      [
        "checkpoint-2",
        "config.json",
        "generation_config.json",
        "loss_curve.svg",
        "metrics.jsonl",
        "model.safetensors",
        "prompt_template.json",
        "tokenizer.json",
        "tokenizer.model",
        "tokenizer_config.json",
        "training_args.json",
      ].sort(),
    );
    const base = await tensorNames(join(TINY, "model.safetensors"));
    const tuned = await tensorNames(join(out, "model.safetensors"));
    expect(new Map([...tuned].sort())).toEqual(new Map([...base].sort()));
    const metrics = await readMetrics(out);
    expect(metrics.filter((m) => !m.eval).map((m) => m.step)).toEqual([1, 2]);
    for (const m of metrics) expect(Number.isFinite(m.loss) && m.loss > 0).toBe(true);
    expect(ctx.out()).toContain("model written to");
    // The written folder is a model `generate` can load: its weights moved away from the base's.
    const { LlamaForCausalLM } = await import("@llamats/llama-model");
    const model = await LlamaForCausalLM.fromPretrained(out);
    const reader = await openSafetensors(join(TINY, "model.safetensors"));
    const before = await reader.readFloat32("model.layers.0.self_attn.q_proj.weight");
    await reader.close();
    const after = ((await model.namedParameters().get("model.layers.0.self_attn.q_proj.weight")?.data()) ??
      new Float32Array()) as Float32Array;
    expect(after.length).toBe(before.length);
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    model.dispose();
  }, 120_000);

  it("rejects a batch size that is not a multiple of the micro-batch size", async () => {
    const ctx = captureContext();
    const code = await runCli(
      [
        "finetune",
        "--model",
        join(FIXTURES, "llama1-tiny"),
        "--data",
        join(dir, "data.jsonl"),
        "--batch-size",
        "6",
        "--micro-batch-size",
        "4",
        "--backend",
        "cpu",
      ],
      ctx,
    );
    expect(code).toBe(1);
    expect(ctx.err()).toMatch(/--batch-size 6 must be a multiple of --micro-batch-size 4/);
  });
});
