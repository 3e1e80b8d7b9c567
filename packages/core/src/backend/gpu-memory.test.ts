import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { gpuMemory, resetGpuMemoryPeak } from "./gpu-memory.js";
import { TEST_BACKENDS, useBackend } from "./test-backends.js";

interface DeviceLike {
  createBuffer(d: { size: number; usage: number }): { destroy(): void };
}

describe("gpuMemory", () => {
  it("is null off webgpu", async () => {
    await useBackend("cpu");
    expect(gpuMemory()).toBeNull();
  }, 60_000);

  it.runIf(TEST_BACKENDS.includes("webgpu"))(
    "on webgpu counts every buffer's bytes while it lives, and keeps the peak until reset",
    async () => {
      await useBackend("webgpu");
      const start = gpuMemory()!;
      expect(start.peakBytes).toBeGreaterThanOrEqual(start.bytesInUse);
      // A size no pooled buffer has: an input and an output of 4 000 012 bytes each (at least: tfjs may round up).
      const x = tf.ones([1_000_003]);
      const y = tf.add(x, x);
      await y.data();
      const during = gpuMemory()!;
      expect(during.bytesInUse - start.bytesInUse).toBeGreaterThanOrEqual(2 * 4_000_012);
      expect(during.peakBytes).toBeGreaterThanOrEqual(during.bytesInUse);
      tf.dispose([x, y]);

      // A buffer made and destroyed directly: in, then out of the count (a second destroy changes nothing).
      const device = (tf.backend() as unknown as { device: DeviceLike }).device;
      const before = gpuMemory()!;
      const buffer = device.createBuffer({ size: 65536, usage: 0x80 | 0x8 }); // STORAGE | COPY_DST
      expect(gpuMemory()!.bytesInUse - before.bytesInUse).toBe(65536);
      expect(gpuMemory()!.buffers - before.buffers).toBe(1);
      buffer.destroy();
      buffer.destroy();
      expect(gpuMemory()!.bytesInUse).toBe(before.bytesInUse);
      expect(gpuMemory()!.buffers).toBe(before.buffers);

      resetGpuMemoryPeak();
      expect(gpuMemory()!.peakBytes).toBe(gpuMemory()!.bytesInUse);
    },
    60_000,
  );
});
