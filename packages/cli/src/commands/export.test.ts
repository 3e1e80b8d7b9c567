import { cp, readFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getTemplate } from "@llamats/instruct-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTrainedTemplate } from "../export/trained-template.js";
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

describe("llamats export gguf --ollama with a fine-tune's recorded template", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "llamats-export-template-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("takes the template from the adapter's prompt_template.json", async () => {
    const adapter = join(dir, "adapter");
    await cp(join(FIXTURES, "llama1-tiny-lora"), adapter, { recursive: true });
    await writeTrainedTemplate(adapter, getTemplate("koalpaca"));
    const ctx = captureContext({ HF_HUB_OFFLINE: "1", HF_HUB_CACHE: dir });
    const target = join(dir, "ko.gguf");
    const args = ["export", "gguf", join(FIXTURES, "llama1-tiny"), "--adapter", adapter, "--out", target, "--ollama"];
    expect(await runCli([...args, "--backend", "cpu"], ctx)).toBe(0);
    const modelfile = await readFile(`${target}.Modelfile`, "utf8");
    expect(modelfile).toContain('the "koalpaca" prompt template');
    expect(modelfile).toContain("{{ .Prompt }}");
    expect(modelfile).toContain("### 질문:");
    expect(ctx.err()).not.toContain("records no prompt_template.json");
  }, 120_000);
});
