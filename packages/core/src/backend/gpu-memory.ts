import * as tf from "@tensorflow/tfjs-core";

/** Bytes of GPU buffers the WebGPU backend holds: now, and the most at once since the peak was last reset. */
export interface GpuMemory {
  bytesInUse: number;
  peakBytes: number;
  /** Buffers alive now (tensors, tfjs's pool of free buffers, uniforms and staging buffers alike). */
  buffers: number;
}

interface BufferLike {
  size: number;
  destroy(): void;
}

interface DeviceLike {
  createBuffer(descriptor: { size: number }): BufferLike;
}

interface Tracker extends GpuMemory {
  live: WeakSet<BufferLike>;
}

const trackers = new WeakMap<object, Tracker>();

function deviceOf(backend: unknown): DeviceLike | null {
  const device = (backend as { device?: DeviceLike } | null)?.device;
  return device && typeof device.createBuffer === "function" ? device : null;
}

/**
 * Counts every buffer the active WebGPU backend's device creates from now on, until it is destroyed (tfjs keeps
 * freed tensors' buffers in a pool, so the count is what the GPU really holds, pool included). initBackend calls it
 * when it starts webgpu; idempotent per device. Buffers made before it (the backend's start-up) are not counted.
 * The pool never shrinks, so compare two configurations' peaks in separate processes (or the smaller one first).
 */
export function trackGpuMemory(): void {
  if (tf.getBackend() !== "webgpu") return;
  const device = deviceOf(tf.backend());
  if (!device || trackers.has(device)) return;
  const tracker: Tracker = { bytesInUse: 0, peakBytes: 0, buffers: 0, live: new WeakSet() };
  const create = device.createBuffer.bind(device);
  device.createBuffer = (descriptor) => {
    const buffer = create(descriptor);
    const bytes = buffer.size;
    tracker.live.add(buffer);
    tracker.bytesInUse += bytes;
    tracker.buffers += 1;
    tracker.peakBytes = Math.max(tracker.peakBytes, tracker.bytesInUse);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      // Counted once: WebGPU allows destroying a buffer twice.
      if (tracker.live.delete(buffer)) {
        tracker.bytesInUse -= bytes;
        tracker.buffers -= 1;
      }
      destroy();
    };
    return buffer;
  };
  trackers.set(device, tracker);
}

function activeTracker(): Tracker | null {
  if (tf.getBackend() !== "webgpu") return null;
  const device = deviceOf(tf.backend());
  return device ? (trackers.get(device) ?? null) : null;
}

/**
 * GPU buffer bytes of the active WebGPU backend (null on other backends, or on a webgpu backend that initBackend
 * did not start). Buffers are created as kernels are recorded, so the figures are current at any point, with no
 * read from the GPU.
 */
export function gpuMemory(): GpuMemory | null {
  const t = activeTracker();
  return t ? { bytesInUse: t.bytesInUse, peakBytes: t.peakBytes, buffers: t.buffers } : null;
}

/** Starts a new peak from what is in use now (e.g. before a measured training step). */
export function resetGpuMemoryPeak(): void {
  const t = activeTracker();
  if (t) t.peakBytes = t.bytesInUse;
}
