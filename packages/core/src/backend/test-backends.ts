import { initBackend, registerGradients } from "./init-backend.js";
import type { BackendName } from "./types.js";
import { probeWebgpuAdapter } from "./webgpu-probe.js";

export type TestBackend = Extract<BackendName, "cpu" | "wasm" | "webgpu">;

/**
 * The backends tests run on, one list for every package: cpu and wasm always, webgpu when Dawn finds an adapter
 * (a software one included: Mesa's lavapipe runs the kernels exactly, only slowly). LLAMATS_TEST_BACKENDS=cpu,wasm
 * narrows it; asking for webgpu there without an adapter is an error, not a silent skip.
 */
export function testBackends(env: NodeJS.ProcessEnv = process.env): TestBackend[] {
  const all: TestBackend[] = ["cpu", "wasm", "webgpu"];
  const asked = env.LLAMATS_TEST_BACKENDS?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (asked) {
    const unknown = asked.filter((b) => !all.includes(b as TestBackend));
    if (unknown.length)
      throw new Error(`LLAMATS_TEST_BACKENDS names unknown backends: ${unknown.join(", ")} (use cpu, wasm, webgpu).`);
    if (asked.includes("webgpu")) {
      const probe = probeWebgpuAdapter();
      if (!probe.ok) throw new Error(`LLAMATS_TEST_BACKENDS asks for webgpu, but ${probe.why}.`);
    }
    return asked as TestBackend[];
  }
  return probeWebgpuAdapter().ok ? all : ["cpu", "wasm"];
}

/** The backends every model test runs on: `describe.each(TEST_BACKENDS)('%s', (backend) => { beforeAll(() => useBackend(backend)); ... })`. */
export const TEST_BACKENDS: readonly TestBackend[] = testBackends();

/** Starts one named backend for a test suite, with every gradient registered (throws BackendUnavailableError if it cannot run). */
export async function useBackend(backend: BackendName): Promise<void> {
  await registerGradients();
  await initBackend({ backend });
}
