import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { initBackend, releaseBackend } from "./init-backend.js";
import { TEST_BACKENDS } from "./test-backends.js";
import { WGSL_DIRECTIVES_MARK, hoistWgslDirectives, webgpuDeviceFeatures } from "./webgpu-device.js";
import { probeWebgpuAdapter } from "./webgpu-probe.js";

describe("hoistWgslDirectives and webgpuDeviceFeatures", () => {
  it("leaves a shader without our mark (every tfjs shader) byte for byte as it was", () => {
    const code = "struct vec5 {x: i32};\nenable subgroups;\nfn main() {}\n";
    expect(hoistWgslDirectives(code)).toBe(code);
  });

  it("moves each marked line's directives to the top once, in order, and keeps every other line", () => {
    const code = [
      "struct vec5 {x: i32};",
      `${WGSL_DIRECTIVES_MARK} diagnostic(off, subgroup_uniformity);`,
      "var<private> a : u32;",
      `  ${WGSL_DIRECTIVES_MARK} enable subgroups;`,
      `${WGSL_DIRECTIVES_MARK} enable subgroups;`,
      "fn main() {}",
    ].join("\n");
    expect(hoistWgslDirectives(code)).toBe(
      [
        "diagnostic(off, subgroup_uniformity);",
        "enable subgroups;",
        "struct vec5 {x: i32};",
        "var<private> a : u32;",
        "fn main() {}",
      ].join("\n"),
    );
  });

  it("a backend not made by our factory counts as having no subgroups", () => {
    expect(webgpuDeviceFeatures({ device: { features: new Set(["subgroups"]) } })).toEqual({ subgroups: false });
    expect(webgpuDeviceFeatures(null)).toEqual({ subgroups: false });
  });
});

interface DeviceLike {
  features: ReadonlySet<string>;
  limits: Record<string, number>;
}

describe.each(TEST_BACKENDS.filter((b) => b === "webgpu"))("llamats' WebGPU device factory", () => {
  const probe = probeWebgpuAdapter();
  if (!probe.ok) throw new Error(`webgpu is in TEST_BACKENDS but the probe failed: ${probe.why}`);
  const offered = probe.adapter.features.includes("subgroups");
  // A WebGPU device left open keeps the test worker alive.
  afterAll(() => releaseBackend());

  async function freshDevice(subgroups: boolean): Promise<{ info: Awaited<ReturnType<typeof initBackend>> }> {
    releaseBackend();
    return { info: await initBackend({ backend: "webgpu", webgpuSubgroups: subgroups }) };
  }

  it(`requests subgroups exactly when the adapter offers them (${offered ? "offered" : "not offered"} here)`, async () => {
    const { info } = await freshDevice(true);
    const device = (tf.backend() as unknown as { device: DeviceLike }).device;
    expect(device.features.has("subgroups")).toBe(offered);
    expect(info.webgpu?.subgroups).toBe(offered);
    expect(webgpuDeviceFeatures(tf.backend()).subgroups).toBe(offered);
    if (offered) {
      const sizes = info.webgpu?.subgroupSizes;
      expect(sizes, "Dawn reports the adapter's subgroup sizes").toBeDefined();
      expect(sizes!.min).toBeGreaterThanOrEqual(4);
      expect(sizes!.max).toBeLessThanOrEqual(128);
      expect(sizes!.min).toBeLessThanOrEqual(sizes!.max);
    }
    // What tfjs's own factory requests is still requested: its timestamp queries and the adapter's largest limits.
    expect(device.features.has("timestamp-query")).toBe(probe.adapter.features.includes("timestamp-query"));
    expect(device.limits.maxStorageBufferBindingSize).toBe(probe.adapter.maxStorageBufferBindingSize);
    expect(device.limits.maxBufferSize).toBe(probe.adapter.maxBufferSize);
  }, 60_000);

  it("webgpuSubgroups: false makes a device without them, and our kernels see none", async () => {
    const { info } = await freshDevice(false);
    const device = (tf.backend() as unknown as { device: DeviceLike }).device;
    expect(device.features.has("subgroups")).toBe(false);
    expect(info.webgpu?.subgroups).toBe(false);
    expect(info.webgpu?.subgroupSizes).toBeUndefined();
    expect(webgpuDeviceFeatures(tf.backend())).toEqual({ subgroups: false });
    // The backend still runs tfjs's own kernels.
    const sum = tf.sum(tf.tensor1d([1, 2, 3]));
    expect(await sum.data()).toEqual(Float32Array.of(6));
    sum.dispose();
  }, 60_000);
});
