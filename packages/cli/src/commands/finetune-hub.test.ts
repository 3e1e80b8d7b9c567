// The README's own commands against a mock Hub serving the real file layouts: `--data tatsu-lab/alpaca` (Parquet
// under data/, as the Hub has it) and a base model repo with only pytorch_model.bin; then `--push-to-hub`.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startMockHub, type MockHub } from "@llamats/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";
import { captureContext } from "./cli-test-context.fixture.js";

const fixture = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
// llama1-tiny saved by torch.save (llama-model/test-fixtures/README.md); Stanford's seed tasks as Parquet written by
// DuckDB (instruct-data/test-fixtures/README.md).
const TORCH_BIN_MODEL = fixture("llama-model/test-fixtures/torch-bin/single");
const ALPACA_PARQUET = fixture("instruct-data/test-fixtures/parquet/train-snappy.parquet");
// tatsu-lab/alpaca's file list on the Hub.
const ALPACA_FILE = "data/train-00000-of-00001-a09b74b3ef9c3b56.parquet";

async function filesOf(dir: string): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const name of await readdir(dir)) files[name] = new Uint8Array(await readFile(join(dir, name)));
  return files;
}

let hub: MockHub;
let root: string;

beforeAll(async () => {
  hub = await startMockHub({
    repos: [
      {
        id: "tatsu-lab/alpaca",
        type: "dataset",
        files: {
          ".gitattributes": "*.parquet filter=lfs diff=lfs merge=lfs -text\n",
          "README.md": "---\nlicense: cc-by-nc-4.0\n---\n# Alpaca\n",
          [ALPACA_FILE]: new Uint8Array(await readFile(ALPACA_PARQUET)),
        },
      },
      {
        id: "old-org/llama-tiny-bin",
        files: { ...(await filesOf(TORCH_BIN_MODEL)), "README.md": "---\nlicense: other\n---\n# tiny\n" },
      },
    ],
  });
  root = await mkdtemp(join(tmpdir(), "llamats-finetune-hub-"));
});
afterAll(async () => {
  await hub.close();
  await rm(root, { recursive: true, force: true });
});

describe("llamats finetune against the (mock) Hub", () => {
  it("--push-to-hub without a token, or to a name that is no repo id, fails before any training", async () => {
    const out = join(root, "never-written");
    const args = ["finetune", "--model", "old-org/llama-tiny-bin", "--data", "tatsu-lab/alpaca", "--out", out];
    const noToken = captureContext({ HF_ENDPOINT: hub.url, HF_HOME: join(root, "empty-home") });
    expect(await runCli([...args, "--push-to-hub", "user/x"], noToken)).toBe(1);
    expect(noToken.err()).toMatch(/^llamats finetune: Pushing to user\/x needs a Hugging Face access token/);
    const badName = captureContext({ HF_TOKEN: "hf_writer", HF_ENDPOINT: hub.url, HF_HOME: join(root, "empty-home") });
    expect(await runCli([...args, "--push-to-hub", "no-namespace"], badName)).toBe(1);
    expect(badName.err()).toContain('"no-namespace" is not a Hub repo id to push to');
    const privateAlone = captureContext({ HF_ENDPOINT: hub.url, HF_HOME: join(root, "empty-home") });
    expect(await runCli([...args, "--private"], privateAlone)).toBe(1);
    expect(privateAlone.err()).toContain("--private goes with --push-to-hub <user/name>.");
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
    expect(hub.contentRequests()).toEqual([]);
  });

  it("trains on tatsu-lab/alpaca from a .bin-only base, then --push-to-hub uploads the adapter with its card", async () => {
    const env = { HF_TOKEN: "hf_writer", HF_ENDPOINT: hub.url, HF_HOME: join(root, "hf-home") };
    const ctx = captureContext(env);
    const out = join(root, "lora-alpaca");
    // The README's command, with a tiny model and two optimizer steps.
    const code = await runCli(
      [
        "finetune",
        "--model",
        "old-org/llama-tiny-bin",
        "--data",
        "tatsu-lab/alpaca",
        "--out",
        out,
        "--cutoff-len",
        "64",
        "--micro-batch-size",
        "2",
        "--batch-size",
        "4",
        "--val-set-size",
        "4",
        "--max-steps",
        "2",
        "--warmup-steps",
        "0",
        "--backend",
        "wasm",
        "--push-to-hub",
        "user/alpaca-tiny-lora",
        "--private",
      ],
      ctx,
    );
    expect(ctx.err()).toContain("171 training / 4 validation examples (alpaca)");
    expect(code).toBe(0);
    expect(ctx.out()).toContain(`pushed to ${hub.url}/user/alpaca-tiny-lora`);
    // The dataset and the PyTorch weights came from the mock Hub into the Python cache layout.
    const fetched = hub.contentRequests().map((r) => decodeURIComponent(r.url));
    const alpacaCommit = hub.commitOf("tatsu-lab/alpaca");
    expect(fetched).toContain(`/datasets/tatsu-lab/alpaca/resolve/${alpacaCommit}/${ALPACA_FILE}`);
    const modelCommit = hub.commitOf("old-org/llama-tiny-bin");
    expect(fetched).toContain(`/old-org/llama-tiny-bin/resolve/${modelCommit}/pytorch_model.bin`);
    expect(fetched.some((u) => u.includes("safetensors"))).toBe(false);

    const pushed = hub.repo("user/alpaca-tiny-lora");
    expect(pushed?.private).toBe(true);
    expect([...(pushed?.files.keys() ?? [])].sort()).toEqual([
      "README.md",
      "adapter_config.json",
      "adapter_model.safetensors",
      "loss_curve.svg",
      "metrics.jsonl",
      "prompt_template.json",
      "training_args.json",
    ]);
    for (const file of ["adapter_config.json", "adapter_model.safetensors", "metrics.jsonl"])
      expect(pushed?.files.get(file)).toEqual(new Uint8Array(await readFile(join(out, file))));

    // The card: metadata from the run, the losses finetune logged, the loss curve.
    const card = new TextDecoder().decode(pushed?.files.get("README.md"));
    expect(card).toMatch(/^---\nbase_model: old-org\/llama-tiny-bin\nlibrary_name: peft\nlicense: other\n/);
    expect(card).toContain("datasets:\n- tatsu-lab/alpaca\n---");
    const metrics = (await readFile(join(out, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: number; loss: number; eval?: boolean; perplexity?: number });
    const lastStep = metrics.filter((m) => !m.eval).at(-1);
    const lastEval = metrics.filter((m) => m.eval).at(-1);
    expect(card).toContain(`- final training loss: ${lastStep?.loss.toFixed(4)} (step 2)`);
    expect(card).toContain(`- final evaluation loss: ${lastEval?.loss.toFixed(4)}, perplexity`);
    expect(card).toContain("![Training and evaluation loss](loss_curve.svg)");
    expect(card).toContain("| learning rate | 0.0003 (linear schedule, 0 warmup steps) |");
    expect(card).toContain("| batch size | 4 (micro-batch 2 × 2 accumulation) |");
    expect(card).toContain("| LoRA rank / alpha / dropout | 8 / 16 / 0.05 |");
    expect(card).toContain("| target modules | q_proj, v_proj |");
    expect(card).toContain("split train: 171 training / 4 validation examples (alpaca)");
  }, 180_000);
});
