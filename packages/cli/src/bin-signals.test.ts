import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS } from "@llamats/core/testing";
import { spawnCli, type CliRun, type SpawnedCli } from "./spawn-cli.fixture.js";

const TRAINER_FIXTURES = fileURLToPath(new URL("../../trainer/test-fixtures", import.meta.url));
const TINY = join(TRAINER_FIXTURES, "llama1-tiny");
const DEMO_BASE = fileURLToPath(new URL("./demo/assets/base-model", import.meta.url));
const ENV = { HF_HOME: "/nonexistent-hf-home", LLAMATS_WASM_THREADS: "1" };
// A process that is still running this long after a signal has hung.
const HANG_MS = 30_000;

let work: string;
/** A 1-layer model with a 16k context and the demo's tokenizer: it streams text for far longer than a test waits. */
let longModel: string;

/** Sends `signal` once the CLI has printed `ready`; returns the run and how long it took to end after the signal. */
async function interrupt(
  spawned: SpawnedCli,
  ready: RegExp,
  signal: NodeJS.Signals,
): Promise<CliRun & { afterSignalMs: number }> {
  await spawned.printed(ready);
  const sentAt = spawned.elapsed();
  spawned.child.kill(signal);
  const run = await spawned.done;
  expect(run.timedOut, `still running ${HANG_MS} ms after ${signal}:\n${run.stderr}`).toBe(false);
  return { ...run, afterSignalMs: run.ms - sentAt };
}

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
  work = await mkdtemp(join(tmpdir(), "llamats-bin-signals-"));
  longModel = join(work, "long-model");
  const model = LlamaForCausalLM.fromConfig(
    {
      model_type: "llama",
      vocab_size: 3000,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      max_position_embeddings: 16384,
      initializer_range: 0.5,
      bos_token_id: 1,
      eos_token_id: 2,
    },
    { seed: 5 },
  );
  await model.savePretrained(longModel);
  model.dispose();
  for (const file of ["tokenizer.json", "tokenizer.model", "tokenizer_config.json"])
    await copyFile(join(DEMO_BASE, file), join(longModel, file));
  const trajectory = JSON.parse(
    await readFile(join(TRAINER_FIXTURES, "lora-trajectory", "trajectory.json"), "utf8"),
  ) as { examples: { input_ids: number[]; labels: number[] }[] };
  await writeFile(
    join(work, "data.jsonl"),
    `${trajectory.examples
      .slice(0, 8)
      .map((e) => JSON.stringify({ input_ids: e.input_ids, labels: e.labels }))
      .join("\n")}\n`,
  );
}, 60_000);
afterAll(() => rm(work, { recursive: true, force: true }));

describe.each(TEST_BACKENDS)("signals on %s", (backend) => {
  it("generate: SIGINT stops generating within a step; exit code 130", async () => {
    const spawned = spawnCli(
      ["generate", longModel, "--prompt", "Once upon a time", "--max-new-tokens", "15000", "--backend", backend],
      { timeoutMs: HANG_MS, env: ENV },
    );
    // Generated text, not the one-line warning a software WebGPU adapter prints first.
    const run = await interrupt(spawned, /^(?!warning:)\S/m, "SIGINT");
    expect(run.code).toBe(130);
    expect(run.afterSignalMs).toBeLessThan(2000);
    expect(run.stdout.trim().length).toBeGreaterThan(0);
  }, 60_000);

  it("finetune: SIGTERM finishes the step, writes a checkpoint and exits 143", async () => {
    const out = join(work, `finetune-${backend}`);
    const args = [
      "finetune",
      "--model",
      TINY,
      "--data",
      join(work, "data.jsonl"),
      "--out",
      out,
      "--micro-batch-size",
      "2",
      "--batch-size",
      "4",
      "--val-set-size",
      "0",
      "--max-steps",
      "100000",
      "--warmup-steps",
      "0",
      "--save-steps",
      "0",
      "--backend",
      backend,
    ];
    const spawned = spawnCli(args, { timeoutMs: HANG_MS, env: ENV });
    // The first step's progress line: training is under way.
    const run = await interrupt(spawned, /step 1\/100000/, "SIGTERM");
    expect(run.code).toBe(143);
    expect(run.afterSignalMs).toBeLessThan(2000);
    const checkpoint = /^interrupted: (\d+)\/100000 steps/m.exec(run.stdout);
    expect(checkpoint, run.stdout + run.stderr).not.toBeNull();
    expect(await readdir(out)).toContain(`checkpoint-${checkpoint![1]}`);
    expect(await readdir(join(out, `checkpoint-${checkpoint![1]}`))).toContain("trainer_state.json");
  }, 60_000);
});

describe("signals on cpu", () => {
  it("generate: SIGTERM exits 143", async () => {
    const spawned = spawnCli(
      ["generate", longModel, "--prompt", "Once", "--max-new-tokens", "15000", "--backend", "cpu"],
      { timeoutMs: HANG_MS, env: ENV },
    );
    const run = await interrupt(spawned, /\S/, "SIGTERM");
    expect(run.code).toBe(143);
    expect(run.afterSignalMs).toBeLessThan(2000);
  }, 60_000);

  it("serve: SIGTERM closes the server and exits 143", async () => {
    const spawned = spawnCli(["serve", "--model", TINY, "--port", "0", "--backend", "cpu"], {
      timeoutMs: HANG_MS,
      env: ENV,
    });
    const run = await interrupt(spawned, /^Serving .* at http:\/\//m, "SIGTERM");
    expect(run.code).toBe(143);
    expect(run.afterSignalMs).toBeLessThan(2000);
    expect(run.stderr).toMatch(/\[serve\] stopped \(0 generations finished, 0 cancelled\)/);
  }, 60_000);

  it("serve: while a generation runs out its grace time, a second signal exits at once", async () => {
    const spawned = spawnCli(
      ["serve", "--model", longModel, "--port", "0", "--backend", "cpu", "--shutdown-grace", "60"],
      { timeoutMs: HANG_MS, env: ENV },
    );
    await spawned.printed(/^Serving .* at http:\/\//m);
    const url = /at (http:\/\/\S+)/.exec(spawned.stdout())![1];
    const abort = new AbortController();
    const response = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      // Greedy: this random model's greedy text has no EOS in 6,000 tokens, but a sampled one often ends within a few
      // hundred, i.e. before the signals below.
      body: JSON.stringify({ model: "long-model", prompt: "Once", max_tokens: 15000, stream: true, temperature: 0 }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    spawned.child.kill("SIGTERM");
    // The first signal waits for the running generation (up to 60 s): still serving it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(spawned.child.exitCode).toBeNull();
    const sentAt = spawned.elapsed();
    spawned.child.kill("SIGTERM");
    const run = await spawned.done;
    abort.abort();
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(143);
    expect(run.ms - sentAt).toBeLessThan(2000);
  }, 60_000);

  it("chat: SIGINT at the prompt ends the chat with 130", async () => {
    const spawned = spawnCli(["chat", TINY, "--backend", "cpu"], { timeoutMs: HANG_MS, env: ENV });
    const run = await interrupt(spawned, /Chat started/, "SIGINT");
    expect(run.code).toBe(130);
    expect(run.afterSignalMs).toBeLessThan(2000);
  }, 60_000);
});
