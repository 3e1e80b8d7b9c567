import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { BackendUnavailableError } from "../errors.js";
import { initBackend } from "./init-backend.js";
import { TEST_BACKENDS, useBackend } from "./test-backends.js";
import { readScalar } from "../testing/read-scalar.js";
import { hasVulkanLoader } from "./vulkan-loader.js";
import { probeWebgpuAdapter } from "./webgpu-probe.js";

const installed = (pkg: string): boolean => {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
};
// Where auto lands depends on the machine: tfjs-node, a hardware WebGPU adapter, a software one (lavapipe in CI), or none.
const tfjsNode = installed("@tensorflow/tfjs-node") || installed("@tensorflow/tfjs-node-gpu");
const probe = probeWebgpuAdapter();
const hardwareGpu = probe.ok && !probe.adapter.software;
// auto's order is tensorflow, webgpu (a hardware adapter only), wasm: what it must pick on this machine.
const AUTO_EXPECTED = tfjsNode ? "tensorflow" : hardwareGpu ? "webgpu" : "wasm";

describe("initBackend", () => {
  it("webgpu asked for by name: the adapter with a warning when it is software, else an error saying what to install", async () => {
    const lines: string[] = [];
    const result = await initBackend({ backend: "webgpu", log: (l) => lines.push(l) }).catch((e: unknown) => e);
    if (probe.ok) {
      const info = result as Awaited<ReturnType<typeof initBackend>>;
      expect(info.backend).toBe("webgpu");
      expect(info.webgpu?.software).toBe(probe.adapter.software);
      expect(info.webgpu?.maxStorageBufferBindingSize).toBe(probe.adapter.maxStorageBufferBindingSize);
      if (probe.adapter.software)
        expect(info.webgpu?.warning).toMatch(/is a CPU emulation: correct but far slower than --backend wasm\.$/);
      else expect(info.webgpu?.warning).toBeUndefined();
      return;
    }
    expect(BackendUnavailableError.isInstance(result)).toBe(true);
    const e = result as BackendUnavailableError;
    expect(e.backend).toBe("webgpu");
    expect(e.message).toContain(`The "webgpu" backend is not available here: ${probe.why}`);
    expect(e.message).toContain("npm i webgpu @tensorflow/tfjs-backend-webgpu");
    expect(e.hint).toContain("vulkaninfo");
    expect(lines).toHaveLength(1);
  });

  it(`auto picks the fastest backend that starts here (${AUTO_EXPECTED}) and says briefly why`, async () => {
    const info = await initBackend({ wasmThreads: 2 });
    expect(info.backend).toBe(AUTO_EXPECTED);
    expect(tf.getBackend()).toBe(AUTO_EXPECTED);
    const webgpuWhy = probe.ok
      ? `the WebGPU adapter is a CPU emulation (${probe.adapter.info.description}), slower than wasm`
      : probe.why;
    const reasons: Record<typeof AUTO_EXPECTED, string> = {
      tensorflow: "using tensorflow",
      webgpu: "tfjs-node not installed; using webgpu",
      wasm: `tfjs-node not installed; ${webgpuWhy}; using wasm`,
    };
    expect(info.reason).toBe(reasons[AUTO_EXPECTED]);
  });

  it("wasm with 2 threads runs llamats' kernels on both, and its matmuls match cpu", async () => {
    const info = await initBackend({ backend: "wasm", wasmThreads: 2 });
    // Threaded wasm in Node (pthread workers started from blob: URLs), checked against the cpu backend.
    // llamats' kernels run on both threads here (worker threads sharing tfjs's heap).
    expect(info.wasm).toEqual({ threads: 2, simd: true, multithread: true, kernels: true });
    const cases: [number[], number[], boolean, boolean][] = [
      [[96, 80], [80, 72], false, false],
      [[1, 300], [900, 300], false, true],
      [[6, 70, 48], [6, 70, 48], false, true],
      [[6, 64, 70], [6, 64, 48], true, false],
    ];
    for (const [[aShape, bShape, ta, tb], seed] of cases.map((c, i) => [c, i] as const)) {
      await tf.setBackend("wasm");
      const [a, b] = [
        tf.randomNormal(aShape, 0, 1, "float32", seed),
        tf.randomNormal(bShape, 0, 1, "float32", seed + 10),
      ];
      const onWasm = tf.matMul(a, b, ta, tb);
      const wasmValues = await onWasm.data();
      const [aValues, bValues] = [await a.data(), await b.data()];
      tf.dispose([a, b, onWasm]);
      await initBackend({ backend: "cpu" });
      const onCpu = tf.tidy(() => tf.matMul(tf.tensor(aValues, aShape), tf.tensor(bValues, bShape), ta, tb));
      const cpuValues = await onCpu.data();
      onCpu.dispose();
      expect(Math.max(...wasmValues.map((v, i) => Math.abs(v - cpuValues[i])))).toBeLessThan(1e-4);
    }
    await tf.setBackend("wasm");
  });

  it("a named backend that works says it was requested", async () => {
    const info = await initBackend({ backend: "cpu" });
    expect(info).toEqual({ backend: "cpu", reason: "cpu requested by name" });
    expect(tf.getBackend()).toBe("cpu");
  });

  it("an unknown backend name is refused with the list of choices", async () => {
    await expect(initBackend({ backend: "metal" as never })).rejects.toThrow(
      "choose one of auto, tensorflow, webgpu, wasm, cpu",
    );
  });

  it.each(TEST_BACKENDS)("useBackend(%s) makes it the active backend", async (name) => {
    await useBackend(name);
    expect(tf.getBackend()).toBe(name);
    expect(await readScalar(tf.tidy(() => tf.add(tf.scalar(2), tf.scalar(3))))).toBe(5);
  });
});

describe("hasVulkanLoader", () => {
  it("is true off Linux, and finds libvulkan.so.1 on LD_LIBRARY_PATH", async () => {
    expect(hasVulkanLoader("darwin", {})).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), "llamats-vk-"));
    try {
      await writeFile(join(dir, "libvulkan.so.1"), "");
      expect(hasVulkanLoader("linux", { LD_LIBRARY_PATH: `/nowhere:${dir}` })).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
