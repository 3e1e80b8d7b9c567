import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { probeWebgpuAdapter } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliProcess, spawnCli } from "./spawn-cli.fixture.js";

// The tiny LLaMA of @llamats/trainer's golden fixtures (see its test-fixtures/README.md).
const TINY = fileURLToPath(new URL("../../trainer/test-fixtures/llama1-tiny", import.meta.url));
// Every backend, webgpu included: where it has no adapter, asking for it is itself the error (still exit 1, no hang).
const BACKENDS = ["cpu", "wasm", "webgpu"] as const;
const webgpu = probeWebgpuAdapter();
const ENV = { HF_HOME: "/nonexistent-hf-home" };

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "llamats-bin-errors-"));
  await writeFile(join(work, "config.json"), '{"model_type": "llama", "hidden_size": ');
  // Throws from a timer once tfjs's wasm backend (and with it Emscripten's uncaughtException handler) has started.
  await writeFile(
    join(work, "throw-after-wasm.mjs"),
    "const timer = setInterval(() => { if (globalThis._tfengine?.registry?.wasm != null) { clearInterval(timer); throw new Error('boom after wasm'); } }, 2);\n",
  );
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe.each(BACKENDS)("the llamats process on %s", (backend) => {
  it("exits with code 1 and one error line within 2 s of an error after the backend started", async () => {
    // The same backend started and stopped without an error: what startup costs on this machine.
    const baseline = await runCliProcess(["env", "--backend", backend], { timeoutMs: 60_000, env: ENV });
    expect(baseline.timedOut, `llamats env --backend ${backend} hung:\n${baseline.stderr}`).toBe(false);
    const run = await runCliProcess(["generate", work, "--ids", "1", "--backend", backend], {
      timeoutMs: baseline.ms + 15_000,
      env: ENV,
    });
    expect(run.timedOut, `llamats generate --backend ${backend} hung after its error:\n${run.stderr}`).toBe(false);
    expect(run.code).toBe(1);
    const errors = run.stderr.split("\n").filter((line) => line.startsWith("llamats"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(
      backend !== "webgpu" || webgpu.ok ? "config.json: not valid JSON" : 'The "webgpu" backend is not available here',
    );
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe("");
    expect(run.ms - baseline.ms).toBeLessThan(2000);
  }, 120_000);
});

describe("an error thrown outside a command (from a timer) once the wasm backend runs", () => {
  it("exits with code 1 and one line, not Emscripten's code 7", async () => {
    const spawned = spawnCli(["generate", TINY, "--ids", "1", "--max-new-tokens", "400", "--backend", "wasm"], {
      timeoutMs: 60_000,
      env: ENV,
      nodeArgs: ["--import", join(work, "throw-after-wasm.mjs")],
    });
    spawned.child.stdin.end();
    const run = await spawned.done;
    expect(run.timedOut, run.stderr).toBe(false);
    expect(run.stderr.trim()).toBe("llamats: boom after wasm");
    expect(run.code).toBe(1);
  }, 90_000);
});
