import { describe, expect, it } from "vitest";
import { isCi, testBackends } from "./test-backends.js";
import type { WebgpuProbeResult } from "./webgpu-probe.js";

const adapter: WebgpuProbeResult = {
  ok: true,
  adapter: {
    info: { vendor: "mesa", architecture: "", device: "", description: "lavapipe" },
    maxStorageBufferBindingSize: 1 << 27,
    maxBufferSize: 1 << 30,
    features: [],
    software: true,
  },
};
const none: WebgpuProbeResult = { ok: false, why: "no Vulkan adapter" };

describe("testBackends", () => {
  it("runs cpu, wasm and webgpu when an adapter is found", () => {
    expect(testBackends({ env: {}, probe: () => adapter })).toEqual(["cpu", "wasm", "webgpu"]);
  });

  it("without an adapter: an error under CI, a line saying so elsewhere", () => {
    expect(() => testBackends({ env: { CI: "true" }, probe: () => none })).toThrow(
      /^CI=true: the webgpu test suites cannot run: no Vulkan adapter/,
    );
    const lines: string[] = [];
    expect(testBackends({ env: {}, probe: () => none, note: (l) => lines.push(l) })).toEqual(["cpu", "wasm"]);
    expect(lines).toEqual([expect.stringMatching(/^NOTE: the webgpu test suites cannot run: no Vulkan adapter/)]);
  });

  it("LLAMATS_TEST_BACKENDS narrows the list; webgpu named there without an adapter, or an unknown name, throws", () => {
    const lines: string[] = [];
    const note = (l: string) => lines.push(l);
    expect(testBackends({ env: { LLAMATS_TEST_BACKENDS: "cpu, wasm", CI: "true" }, probe: () => none, note })).toEqual([
      "cpu",
      "wasm",
    ]);
    expect(lines).toEqual([]);
    expect(() => testBackends({ env: { LLAMATS_TEST_BACKENDS: "cpu,webgpu" }, probe: () => none })).toThrow(
      "LLAMATS_TEST_BACKENDS asks for webgpu, but no Vulkan adapter.",
    );
    expect(() => testBackends({ env: { LLAMATS_TEST_BACKENDS: "cpu,metal" }, probe: () => adapter })).toThrow(
      /unknown backends: metal/,
    );
  });

  it("isCi: CI=true or 1", () => {
    expect([isCi({ CI: "true" }), isCi({ CI: "1" }), isCi({ CI: "false" }), isCi({})]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
