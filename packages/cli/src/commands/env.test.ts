import { probeWebgpuAdapter, releaseBackend } from "@llamats/core";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";
import { captureContext } from "./cli-test-context.fixture.js";

// What this machine has decides which case is asserted: a software adapter (lavapipe), a GPU, or no adapter at all.
const probe = probeWebgpuAdapter();

interface JsonReport {
  backend: {
    backend: string;
    reason: string;
    wasm?: { threads: number };
    webgpu?: { software: boolean; warning?: string };
  };
  hub: { token: boolean };
}

describe("llamats env", () => {
  // A WebGPU device left open keeps the test worker alive.
  afterAll(() => releaseBackend());

  it(`--backend webgpu (${probe.ok ? (probe.adapter.software ? "software adapter" : "GPU adapter") : "no adapter"} here)`, async () => {
    const ctx = captureContext({ HF_HOME: "/nonexistent-hf-home" });
    const code = await runCli(["env", "--backend", "webgpu"], ctx);
    const err = ctx.err();
    if (!probe.ok) {
      // One paragraph saying what to install.
      expect(code).not.toBe(0);
      expect(err).toMatch(/^llamats env: The "webgpu" backend is not available here: /);
      expect(err).toContain(probe.why);
      expect(err).toContain("npm i webgpu @tensorflow/tfjs-backend-webgpu");
      expect(err.trim().split("\n")).toHaveLength(1);
      expect(ctx.out()).toBe("");
      return;
    }
    expect(code).toBe(0);
    const out = ctx.out();
    expect(out).toMatch(/^backend\s+webgpu: webgpu requested by name$/m);
    expect(out).toMatch(/^gpu adapter\s+\S/m);
    // Subgroups are requested whenever the adapter offers them, unless turned off for a comparison.
    const subgroups = probe.adapter.features.includes("subgroups") && process.env.LLAMATS_WEBGPU_SUBGROUPS !== "0";
    expect(out).toMatch(
      new RegExp(`^webgpu\\s+.*; subgroups ${subgroups ? "on( \\(\\d+(-\\d+)? invocations\\))?" : "off"}$`, "m"),
    );
    if (probe.adapter.software) {
      // Taken when asked for by name, with one line on stderr saying it is an emulation.
      expect(out).toMatch(/^webgpu\s+software adapter \(a CPU emulation\); largest binding \d+ MiB/m);
      expect(err).toMatch(
        /^warning: WebGPU adapter ".+" is a CPU emulation: correct but far slower than --backend wasm\.\n$/,
      );
    } else {
      expect(out).toMatch(/^webgpu\s+hardware adapter; largest binding \d+ MiB/m);
      expect(err).toBe("");
    }
  }, 60_000);

  it("auto says which backend it chose and why it passed over WebGPU (or chose it)", async () => {
    const ctx = captureContext({ HF_HOME: "/nonexistent-hf-home" });
    expect(await runCli(["env", "--json"], ctx)).toBe(0);
    const report = JSON.parse(ctx.out()) as JsonReport;
    const { backend, reason } = report.backend;
    expect(reason).toContain(`using ${backend}`);
    if (backend === "wasm") expect(report.backend.wasm?.threads).toBeGreaterThanOrEqual(1);
    if (backend === "tensorflow") {
      // tfjs-node installed: tried first, so nothing was passed over.
      expect(reason).toBe("using tensorflow");
    } else if (!probe.ok) {
      expect(reason).toContain(probe.why);
    } else if (probe.adapter.software) {
      // A CPU emulation is slower than wasm: auto passes over it and says so.
      expect(backend).not.toBe("webgpu");
      expect(reason).toMatch(/the WebGPU adapter is a CPU emulation \(.+\), slower than wasm; using wasm$/);
    } else {
      expect(backend).toBe("webgpu");
      expect(report.backend.webgpu?.software).toBe(false);
    }
    expect(report.hub.token).toBe(false);
    expect(ctx.err()).toBe("");
  }, 60_000);

  it("--backend cpu prints versions, the backend and why, and the hub settings from the given env", async () => {
    const ctx = captureContext({
      HF_HUB_CACHE: "/tmp/some-hf-cache",
      HF_ENDPOINT: "http://127.0.0.1:9",
      HF_TOKEN: "hf_x",
    });
    expect(await runCli(["env", "--backend", "cpu"], ctx)).toBe(0);
    const out = ctx.out();
    expect(out).toMatch(/^llamats\s+0\.\d+\.\d+ \(@llamats\/core 0\.\d+\.\d+\)$/m);
    expect(out).toMatch(/^node\s+v\d+/m);
    expect(out).toMatch(/^tfjs-core\s+4\.\d+\.\d+$/m);
    expect(out).toMatch(/^backend\s+cpu: cpu requested by name$/m);
    expect(out).toMatch(/^hub cache\s+\/tmp\/some-hf-cache$/m);
    expect(out).toMatch(/^hub endpoint\s+http:\/\/127\.0\.0\.1:9$/m);
    expect(out).toMatch(/^hf token\s+set$/m);
  });

  it("an unknown --backend is refused with the choices", async () => {
    const ctx = captureContext();
    expect(await runCli(["env", "--backend", "metal"], ctx)).toBe(1);
    expect(ctx.err()).toContain('--backend must be one of auto, tensorflow, webgpu, wasm, cpu; got "metal"');
  });
});
