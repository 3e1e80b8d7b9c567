import { readFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";
import { captureContext } from "./cli-test-context.fixture.js";

// The golden fixtures live with @llamats/peft-lora (copied unchanged from shared/fixtures; see its test-fixtures/README.md).
const FIXTURES = fileURLToPath(new URL("../../../peft-lora/test-fixtures", import.meta.url));

describe("llamats export gguf", () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "llamats-export-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("merges the adapter, writes a q8_0 GGUF and an Ollama Modelfile with alpaca's template", async () => {
    const ctx = captureContext({ HF_HUB_OFFLINE: "1", HF_HUB_CACHE: out });
    const target = join(out, "alpaca.gguf");
    const code = await runCli(
      [
        "export",
        "gguf",
        join(FIXTURES, "llama1-tiny"),
        "--adapter",
        join(FIXTURES, "llama1-tiny-lora"),
        "--out",
        target,
        "--type",
        "q8_0",
        "--ollama",
        "--backend",
        "cpu",
      ],
      ctx,
    );
    expect(ctx.err()).toContain("writing tensors 21/21");
    expect(code).toBe(0);
    expect(ctx.out()).toBe(`${target}\n`);
    const bytes = await readFile(target);
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("GGUF");
    expect(bytes.readUInt32LE(4)).toBe(3);
    // alpaca-lora's templates/alpaca.json, prompt_no_input, with Ollama's {{ .Prompt }} for {instruction}.
    expect(await readFile(`${target}.Modelfile`, "utf8")).toBe(
      [
        '# Written by llamats export gguf: the "alpaca" prompt template the model was fine-tuned with.',
        "FROM ./alpaca.gguf",
        'TEMPLATE """Below is an instruction that describes a task. Write a response that appropriately completes the request.',
        "",
        "### Instruction:",
        "{{ .Prompt }}",
        "",
        "### Response:",
        '"""',
        'PARAMETER stop "</s>"',
        'PARAMETER stop "### Instruction:"',
        'PARAMETER stop "### Response:"',
        'PARAMETER stop "### Input:"',
        "",
      ].join("\n"),
    );
    expect((await readdir(out)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  }, 120_000);

  it("refuses an unknown --type before loading anything, and asks for --out", async () => {
    const bad = captureContext();
    expect(await runCli(["export", "gguf", "./nowhere", "--out", "x.gguf", "--type", "q4_0"], bad)).toBe(1);
    expect(bad.err()).toContain("--type must be one of f32, f16, q8_0");
    const noOut = captureContext();
    expect(await runCli(["export", "gguf", "./nowhere"], noOut)).toBe(2);
    expect(noOut.err()).toContain("--out");
    const noFormat = captureContext();
    expect(await runCli(["export", "onnx", "./nowhere"], noFormat)).toBe(2);
    expect(noFormat.err()).toContain("the only one is gguf");
  });
});
