import { initBackend, registerGradients } from "./init-backend.js";
import type { BackendName } from "./types.js";
import { probeWebgpuAdapter, type WebgpuProbeResult } from "./webgpu-probe.js";

export type TestBackend = Extract<BackendName, "cpu" | "wasm" | "webgpu">;

export interface TestBackendsOptions {
  env?: NodeJS.ProcessEnv;
  /** Finds the WebGPU adapter (default: Dawn's probe, run once). */
  probe?: () => WebgpuProbeResult;
  /** Where the line saying webgpu was left out goes (default stderr). */
  note?: (line: string) => void;
}

/**
 * The backends tests run on, one list for every package: cpu and wasm always, webgpu when Dawn finds an adapter
 * (a software one included: Mesa's lavapipe runs the kernels exactly, only slowly). LLAMATS_TEST_BACKENDS=cpu,wasm
 * narrows it; asking for webgpu there without an adapter is an error, not a silent skip. Without the variable, a
 * missing adapter is an error under CI (CI=true, where lavapipe is installed) and a line on stderr elsewhere.
 */
export function testBackends(options: TestBackendsOptions = {}): TestBackend[] {
  const env = options.env ?? process.env;
  const probe = options.probe ?? probeWebgpuAdapter;
  const all: TestBackend[] = ["cpu", "wasm", "webgpu"];
  const asked = env.LLAMATS_TEST_BACKENDS?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (asked) {
    const unknown = asked.filter((b) => !all.includes(b as TestBackend));
    if (unknown.length)
      throw new Error(`LLAMATS_TEST_BACKENDS names unknown backends: ${unknown.join(", ")} (use cpu, wasm, webgpu).`);
    if (asked.includes("webgpu")) {
      const found = probe();
      if (!found.ok) throw new Error(`LLAMATS_TEST_BACKENDS asks for webgpu, but ${found.why}.`);
    }
    return asked as TestBackend[];
  }
  const found = probe();
  if (found.ok) return all;
  const why = `the webgpu test suites cannot run: ${found.why} (Mesa's lavapipe is enough: apt-get install mesa-vulkan-drivers)`;
  if (isCi(env)) throw new Error(`CI=${env.CI}: ${why}.`);
  (options.note ?? ((line) => process.stderr.write(`${line}\n`)))(
    `NOTE: ${why}; running cpu and wasm only (LLAMATS_TEST_BACKENDS=cpu,wasm narrows the list on purpose).`,
  );
  return ["cpu", "wasm"];
}

/** CI=true (GitHub Actions, GitLab and most others set it), or 1. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === "true" || env.CI === "1";
}

/** The backends every model test runs on: `describe.each(TEST_BACKENDS)('%s', (backend) => { beforeAll(() => useBackend(backend)); ... })`. */
export const TEST_BACKENDS: readonly TestBackend[] = testBackends();

/** Starts one named backend for a test suite, with every gradient registered (throws BackendUnavailableError if it cannot run). */
export async function useBackend(backend: BackendName): Promise<void> {
  await registerGradients();
  await initBackend({ backend });
}
