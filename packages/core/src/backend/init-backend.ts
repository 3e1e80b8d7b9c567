import * as tf from "@tensorflow/tfjs-core";
import { BackendUnavailableError } from "../errors.js";
import { attempt } from "./attempts.js";
import { BACKEND_HINTS } from "./hints.js";
import { BACKEND_CHOICES, type BackendInfo, type BackendName, type InitBackendOptions } from "./types.js";

const AUTO_ORDER: readonly BackendName[] = ["tensorflow", "webgpu", "wasm", "cpu"];

function infoFrom(
  backend: BackendName,
  reason: string,
  result: Omit<BackendInfo, "backend" | "reason">,
  log?: (line: string) => void,
): BackendInfo {
  const info: BackendInfo = { backend, reason };
  if (result.wasm?.note) log?.(`backend ${backend}: ${result.wasm.note}`);
  if (result.adapter) info.adapter = result.adapter;
  if (result.nativePackage) info.nativePackage = result.nativePackage;
  if (result.wasm) info.wasm = result.wasm;
  if (result.webgpu) info.webgpu = result.webgpu;
  return info;
}

/**
 * Picks and starts the tensor backend. Call it once from an application (CLI, example, test setup), never from
 * library code. `auto` tries tensorflow, webgpu, wasm, cpu in that order and says, briefly, why it passed over
 * the faster ones; a backend named explicitly that cannot start throws a BackendUnavailableError saying what to install.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const choice = options.backend ?? "auto";
  // Production mode: no debug checks, and no "install tfjs-node" banner printed on the cpu backend's first use.
  if (options.production ?? true) tf.env().set("PROD", true);
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new BackendUnavailableError(`Unknown backend "${choice}"; choose one of ${BACKEND_CHOICES.join(", ")}.`, {
      backend: String(choice),
      hint: `Use one of ${BACKEND_CHOICES.join(", ")}.`,
    });
  }
  if (choice !== "auto") {
    const result = await attempt(choice, options);
    if (!result.ok) {
      options.log?.(`backend ${choice}: ${result.why}${result.detail ? ` (${result.detail})` : ""}`);
      throw new BackendUnavailableError(
        `The "${choice}" backend is not available here: ${result.why}. ${BACKEND_HINTS[choice]}`,
        {
          backend: choice,
          hint: BACKEND_HINTS[choice],
        },
      );
    }
    options.log?.(`backend ${choice}: requested by name`);
    return infoFrom(choice, `${choice} requested by name`, result, options.log);
  }
  const passedOver: string[] = [];
  for (const name of AUTO_ORDER) {
    const result = await attempt(name, options, true);
    if (result.ok) {
      const reason = [...passedOver, `using ${name}`].join("; ");
      options.log?.(`backend ${name}: ${reason}`);
      return infoFrom(name, reason, result, options.log);
    }
    passedOver.push(result.why);
    options.log?.(`backend ${name}: ${result.why}${result.detail ? ` (${result.detail})` : ""}`);
  }
  throw new BackendUnavailableError(`No tensor backend could start: ${passedOver.join("; ")}. ${BACKEND_HINTS.wasm}`, {
    backend: "auto",
    hint: BACKEND_HINTS.wasm,
  });
}

/** Registers every gradient tfjs knows; call where training starts (importing tfjs-core alone registers none). */
export async function registerGradients(): Promise<void> {
  await import("@tensorflow/tfjs-core/dist/register_all_gradients.js");
}

/**
 * Frees the active backend's device so nothing keeps Node alive: a WebGPU device holds a native handle until it
 * is destroyed. Call it from an application when it is done with tensors (the CLI does on exit and on errors).
 */
export function releaseBackend(): void {
  const webgpu = tf.engine().registry.webgpu as { device?: { destroy?: () => void } } | undefined;
  if (!webgpu) return;
  try {
    tf.removeBackend("webgpu");
  } finally {
    webgpu.device?.destroy?.();
  }
}
