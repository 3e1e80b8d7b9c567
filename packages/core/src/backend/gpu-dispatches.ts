import * as tf from "@tensorflow/tfjs-core";
import { LlamatsError } from "../errors.js";

/** Compute dispatches the WebGPU backend recorded since the counter started. */
export interface GpuDispatchCounter {
  count(): number;
  /** Stops counting; the backend runs unwrapped again once every counter has stopped. */
  stop(): void;
}

type RecordAndSubmit = (this: unknown, ...args: unknown[]) => unknown;

interface Hook {
  tallies: Set<{ n: number }>;
  /** The backend's own `recordAndSubmit` when someone had set one on the instance (else the prototype's is used). */
  own: RecordAndSubmit | undefined;
}

const hooks = new WeakMap<object, Hook>();

/**
 * Counts the GPU compute dispatches of the active WebGPU backend (tfjs-backend-webgpu 4.x), so kernel fusion is
 * visible without timing a real GPU: on a software adapter the count is the same as on hardware.
 * Wraps the backend's `recordAndSubmit`, which issues exactly one `dispatchWorkgroups` (runWebGPUProgram also
 * returns early for empty outputs, which dispatch nothing). Returns null when the active backend is not webgpu:
 * the count is a WebGPU measure (cpu and wasm run kernels as plain function calls).
 */
export function countGpuDispatches(): GpuDispatchCounter | null {
  if (tf.getBackend() !== "webgpu") return null;
  const backend = tf.backend() as unknown as { recordAndSubmit?: RecordAndSubmit };
  const original = backend.recordAndSubmit;
  if (typeof original !== "function") {
    throw new LlamatsError(
      "Cannot count GPU dispatches: this @tensorflow/tfjs-backend-webgpu has no recordAndSubmit (llamats expects 4.x).",
    );
  }
  let hook = hooks.get(backend);
  if (!hook) {
    const tallies = new Set<{ n: number }>();
    hook = { tallies, own: Object.prototype.hasOwnProperty.call(backend, "recordAndSubmit") ? original : undefined };
    backend.recordAndSubmit = function countedRecordAndSubmit(this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args);
      // Counted after the call: one that throws dispatched nothing.
      for (const tally of tallies) tally.n += 1;
      return result;
    };
    hooks.set(backend, hook);
  }
  const tally = { n: 0 };
  hook.tallies.add(tally);
  const active = hook;
  return {
    count: () => tally.n,
    stop: () => {
      if (!active.tallies.delete(tally) || active.tallies.size > 0) return;
      hooks.delete(backend);
      if (active.own) backend.recordAndSubmit = active.own;
      else delete backend.recordAndSubmit;
    },
  };
}
