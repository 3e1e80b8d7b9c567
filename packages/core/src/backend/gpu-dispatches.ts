import * as tf from "@tensorflow/tfjs-core";
import { LlamatsError } from "../errors.js";

/** Compute dispatches the WebGPU backend recorded since the counter started. */
export interface GpuDispatchCounter {
  count(): number;
  /**
   * The same dispatches by program: the name that starts the program's shader key ("transpose", "transposeShared",
   * "binary", …, and "llamats_attention", "llamats_rope", … for llamats' kernels), with how many ran.
   */
  byProgram(): Map<string, number>;
  /** Stops counting; the backend runs unwrapped again once every counter has stopped. */
  stop(): void;
}

type RecordAndSubmit = (this: unknown, ...args: unknown[]) => unknown;

interface Tally {
  n: number;
  programs: Map<string, number>;
}

interface Hook {
  tallies: Set<Tally>;
  /** The backend's own `recordAndSubmit` when someone had set one on the instance (else the prototype's is used). */
  own: RecordAndSubmit | undefined;
}

const hooks = new WeakMap<object, Hook>();

/**
 * The name that starts a tfjs-webgpu program's shader key (recordAndSubmit's first argument): its first word, two
 * for llamats' own programs ("llamats_attention", "llamats_rope"); "unknown" without a key.
 */
function programName(program: unknown): string {
  const key = (program as { shaderKey?: unknown } | null)?.shaderKey;
  if (typeof key !== "string") return "unknown";
  const words = key.split("_");
  return words[0] === "llamats" && words.length > 1 ? `llamats_${words[1]}` : words[0];
}

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
    const tallies = new Set<Tally>();
    hook = { tallies, own: Object.prototype.hasOwnProperty.call(backend, "recordAndSubmit") ? original : undefined };
    backend.recordAndSubmit = function countedRecordAndSubmit(this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args);
      // Counted after the call: one that throws dispatched nothing.
      const program = programName(args[0]);
      for (const tally of tallies) {
        tally.n += 1;
        tally.programs.set(program, (tally.programs.get(program) ?? 0) + 1);
      }
      return result;
    };
    hooks.set(backend, hook);
  }
  const tally: Tally = { n: 0, programs: new Map() };
  hook.tallies.add(tally);
  const active = hook;
  return {
    count: () => tally.n,
    byProgram: () => new Map(tally.programs),
    stop: () => {
      if (!active.tallies.delete(tally) || active.tallies.size > 0) return;
      hooks.delete(backend);
      if (active.own) backend.recordAndSubmit = active.own;
      else delete backend.recordAndSubmit;
    },
  };
}
