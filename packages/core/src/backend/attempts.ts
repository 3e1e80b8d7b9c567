import { installWasmKernels, uninstallWasmKernels } from "../kernels/install-kernels.js";
import * as tf from "@tensorflow/tfjs-core";
import type { BackendName, InitBackendOptions, WasmInfo, WebgpuInfo } from "./types.js";
import { trackGpuMemory } from "./gpu-memory.js";
import { requestLlamatsDevice, webgpuDeviceFeatures, type GpuLike } from "./webgpu-device.js";
import { probeWebgpuAdapter } from "./webgpu-probe.js";
import { installWasmThreadsShim, MAX_WASM_THREADS } from "./wasm-threads.js";

/** The outcome of trying one backend: `why` is a short phrase, `detail` the underlying error for logs. */
export type Attempt =
  | { ok: true; adapter?: Record<string, string>; nativePackage?: string; wasm?: WasmInfo; webgpu?: WebgpuInfo }
  | { ok: false; why: string; detail?: string };

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}

/** Node says ERR_MODULE_NOT_FOUND; bundlers and vite's loader say "Cannot find module" / "Could not resolve". */
function isNotInstalled(error: unknown, pkg: string): boolean {
  const code = (error as { code?: string } | null)?.code;
  const message = firstLine(error);
  const missing =
    code === "ERR_MODULE_NOT_FOUND" ||
    code === "MODULE_NOT_FOUND" ||
    /Cannot find (package|module)|Could not resolve/.test(message);
  return missing && message.includes(pkg);
}

/** Imports a package; a short reason when it is missing or broken. */
async function load<T>(pkg: string, short: string): Promise<{ module: T } | { why: string; detail: string }> {
  try {
    return { module: (await import(/* @vite-ignore */ pkg)) as T };
  } catch (error) {
    return {
      why: isNotInstalled(error, pkg) ? `${short} not installed` : `${short} failed to load`,
      detail: firstLine(error),
    };
  }
}

async function tryTensorflow(): Promise<Attempt> {
  const failures: { why: string; detail: string }[] = [];
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    const loaded = await load(pkg, pkg.slice("@tensorflow/".length));
    if ("module" in loaded) {
      if (await tf.setBackend("tensorflow").catch(() => false)) return { ok: true, nativePackage: pkg };
      failures.push({ why: `${pkg} loaded but its backend did not start`, detail: "" });
    } else failures.push(loaded);
  }
  const broken = failures.find((f) => !f.why.endsWith("not installed"));
  if (broken) return { ok: false, why: broken.why, detail: broken.detail };
  return { ok: false, why: "tfjs-node not installed", detail: failures.map((f) => f.detail).join("; ") };
}

interface WebgpuModule {
  create: (flags: string[]) => GpuLike;
  globals: Record<string, unknown>;
}

interface TfjsWebgpuModule {
  WebGPUBackend: new (device: unknown, adapterInfo: unknown) => tf.KernelBackend;
}

/** Dawn's GPU object, made once per process (a second create() would start a second Dawn instance). */
let dawnGpu: GpuLike | undefined;

async function startDawn(): Promise<{ ok: true; gpu: GpuLike } | { ok: false; why: string; detail?: string }> {
  if (dawnGpu) return { ok: true, gpu: dawnGpu };
  const dawn = await load<WebgpuModule>("webgpu", "webgpu (Dawn) package");
  if (!("module" in dawn)) return { ok: false, ...dawn };
  let gpu: GpuLike;
  try {
    gpu = dawn.module.create([]);
  } catch (error) {
    return { ok: false, why: "Dawn failed to start", detail: firstLine(error) };
  }
  // The tfjs WebGPU backend looks for navigator.gpu and the WebGPU globals (GPUBufferUsage, ...): set them first.
  Object.assign(globalThis, dawn.module.globals);
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, "gpu", { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true });
  dawnGpu = gpu;
  return { ok: true, gpu };
}

/**
 * Puts llamats' factory in place of the one tfjs-backend-webgpu registers on import (before the backend is first
 * made): it requests `subgroups` too when asked and offered (webgpu-device.ts).
 */
function registerWebgpuFactory(gpu: GpuLike, tfjsWebgpu: TfjsWebgpuModule, subgroups: boolean): void {
  if (tf.engine().registryFactory.webgpu != null) tf.removeBackend("webgpu");
  tf.registerBackend(
    "webgpu",
    async () => {
      const { device, adapterInfo } = await requestLlamatsDevice(gpu, { subgroups });
      return new tfjsWebgpu.WebGPUBackend(device, adapterInfo);
    },
    3, // tfjs's own priority for webgpu
  );
}

/**
 * WebGPU through Dawn. The adapter is first probed in a child process (quietly); `auto` passes over a software
 * adapter (a CPU emulation is far slower than wasm), a request by name takes it with a warning. A backend that
 * already started keeps its device (releaseBackend() first to make a new one, e.g. without subgroups).
 */
async function tryWebgpu(auto: boolean, subgroups: boolean): Promise<Attempt> {
  const probe = probeWebgpuAdapter();
  if (!probe.ok) return probe;
  const described = probe.adapter.info;
  const name = described.description ?? described.device ?? described.architecture ?? "unknown adapter";
  if (auto && probe.adapter.software)
    return { ok: false, why: `the WebGPU adapter is a CPU emulation (${name}), slower than wasm` };
  if (tf.engine().registry.webgpu == null) {
    const dawn = await startDawn();
    if (!dawn.ok) return dawn;
    const backend = await load<TfjsWebgpuModule>("@tensorflow/tfjs-backend-webgpu", "tfjs-backend-webgpu");
    if (!("module" in backend)) return { ok: false, ...backend };
    registerWebgpuFactory(dawn.gpu, backend.module, subgroups);
  }
  if (!(await tf.setBackend("webgpu").catch(() => false)))
    return { ok: false, why: "the tfjs WebGPU backend failed to start" };
  trackGpuMemory();
  const features = webgpuDeviceFeatures(tf.backend());
  const webgpu: WebgpuInfo = {
    software: probe.adapter.software,
    maxStorageBufferBindingSize: probe.adapter.maxStorageBufferBindingSize,
    maxBufferSize: probe.adapter.maxBufferSize,
    subgroups: features.subgroups,
  };
  if (features.subgroupMinSize !== undefined && features.subgroupMaxSize !== undefined)
    webgpu.subgroupSizes = { min: features.subgroupMinSize, max: features.subgroupMaxSize };
  if (probe.adapter.software)
    webgpu.warning = `WebGPU adapter "${name}" is a CPU emulation: correct but far slower than --backend wasm.`;
  return { ok: true, adapter: described, webgpu };
}

interface WasmModule {
  setThreadsCount?: (n: number) => void;
  getThreadsCount?: () => number;
}

/** How long the threaded build may take to start its pthread workers before we fall back to one thread. */
const THREADED_START_MS = 30_000;

/** Starts the threaded SIMD build with `threads` threads; the reason it could not, otherwise. */
async function startThreadedWasm(
  module: WasmModule,
  threads: number,
): Promise<{ ok: true } | { ok: false; why: string }> {
  if (typeof SharedArrayBuffer === "undefined") return { ok: false, why: "no SharedArrayBuffer" };
  const shim = installWasmThreadsShim(threads);
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  module.setThreadsCount?.(threads);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`pthread workers did not start in ${THREADED_START_MS / 1000} s`)),
      THREADED_START_MS,
    );
  });
  try {
    const ok = await Promise.race([tf.setBackend("wasm"), shim.failed, timeout]);
    shim.finish(ok);
    return ok ? { ok: true } : { ok: false, why: "the threaded build failed to start" };
  } catch (error) {
    shim.finish(false);
    return { ok: false, why: firstLine(error) };
  } finally {
    clearTimeout(timer);
  }
}

async function tryWasm(requested: number | undefined, kernels: boolean): Promise<Attempt> {
  const loaded = await load<WasmModule>("@tensorflow/tfjs-backend-wasm", "tfjs-backend-wasm");
  if (!("module" in loaded)) return { ok: false, ...loaded };
  // Opt-in: on a busy machine pthreadpool's waits made token-by-token decoding ~5× slower (see types.ts).
  const threads = Math.min(Math.max(1, Math.floor(requested ?? 1)), MAX_WASM_THREADS);
  // A backend that already started keeps its threads: tfjs builds it once per process. (findBackend would start it.)
  const started = tf.engine().registry.wasm != null;
  let note: string | undefined;
  let active = false;
  if (!started && threads > 1) {
    const threaded = await startThreadedWasm(loaded.module, threads);
    active = threaded.ok;
    if (!threaded.ok) note = `one thread: ${threaded.why}`;
  }
  if (!active) {
    if (!started) {
      tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      loaded.module.setThreadsCount?.(1);
    }
    if (!(await tf.setBackend("wasm").catch(() => false)))
      return { ok: false, why: "the wasm backend failed to start" };
  }
  const wasm: WasmInfo = {
    threads: loaded.module.getThreadsCount?.() ?? 1,
    simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")),
    multithread: Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")),
    kernels,
  };
  if (kernels) installWasmKernels();
  else uninstallWasmKernels();
  if (note) wasm.note = note;
  return { ok: true, wasm };
}

async function tryCpu(): Promise<Attempt> {
  const loaded = await load("@tensorflow/tfjs-backend-cpu", "tfjs-backend-cpu");
  if (!("module" in loaded)) return { ok: false, ...loaded };
  if (!(await tf.setBackend("cpu").catch(() => false))) return { ok: false, why: "the cpu backend failed to start" };
  return { ok: true };
}

export function attempt(name: BackendName, options: InitBackendOptions, auto = false): Promise<Attempt> {
  switch (name) {
    case "tensorflow":
      return tryTensorflow();
    case "webgpu":
      return tryWebgpu(auto, options.webgpuSubgroups ?? process.env.LLAMATS_WEBGPU_SUBGROUPS !== "0");
    case "wasm":
      return tryWasm(options.wasmThreads, options.wasmKernels ?? process.env.LLAMATS_WASM_KERNELS !== "0");
    case "cpu":
      return tryCpu();
  }
}
