import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError } from './errors.js';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendInfo {
  /** The tfjs backend now active. */
  backend: BackendName;
  /** Why it was chosen (and, for auto, why the faster ones were passed over). */
  reason: string;
  /** GPU adapter description, for webgpu. */
  adapter?: Record<string, string>;
}

export interface InitBackendOptions {
  backend?: BackendChoice;
  /** Receives one line per backend tried. */
  log?: (line: string) => void;
  /** Threads for the wasm backend (defaults to the number of CPU cores). */
  wasmThreads?: number;
}

const HINTS: Record<BackendName, string> = {
  tensorflow:
    'Install the native TensorFlow binding: `npm i @tensorflow/tfjs-node-gpu` (needs an NVIDIA GPU with CUDA 11.2 and cuDNN 8.1) or `npm i @tensorflow/tfjs-node` (CPU). Their install script downloads libtensorflow, so it needs internet access.',
  webgpu:
    'WebGPU needs `npm i webgpu @tensorflow/tfjs-backend-webgpu` and a GPU with a Vulkan driver (Debian/Ubuntu: `apt-get install libvulkan1` plus your GPU vendor\'s Vulkan ICD, e.g. the NVIDIA driver\'s nvidia_icd.json; check with `vulkaninfo`).',
  wasm: 'Install the WebAssembly backend: `npm i @tensorflow/tfjs-backend-wasm`.',
  cpu: 'Install the plain JavaScript backend: `npm i @tensorflow/tfjs-backend-cpu`.',
};

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Attempt = { ok: true; adapter?: Record<string, string> } | { ok: false; why: string };

async function tryTensorflow(): Promise<Attempt> {
  const tried: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(/* @vite-ignore */ pkg);
      if (await tf.setBackend('tensorflow')) return { ok: true };
      tried.push(`${pkg} loaded but its backend did not start`);
    } catch (error) {
      tried.push(`${pkg} is not installed or failed to load (${messageOf(error).split('\n')[0]})`);
    }
  }
  return { ok: false, why: tried.join('; ') };
}

async function tryWebgpu(): Promise<Attempt> {
  let webgpu: { create: (flags: string[]) => unknown; globals: Record<string, unknown> };
  try {
    webgpu = (await import(/* @vite-ignore */ 'webgpu')) as typeof webgpu;
  } catch (error) {
    return { ok: false, why: `the \`webgpu\` package (Dawn for Node.js) is not installed (${messageOf(error).split('\n')[0]})` };
  }
  let gpu: { requestAdapter: (o?: unknown) => Promise<unknown> };
  try {
    Object.assign(globalThis, webgpu.globals);
    gpu = webgpu.create([]) as typeof gpu;
  } catch (error) {
    return { ok: false, why: `Dawn failed to start (${messageOf(error).split('\n')[0]})` };
  }
  const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null)) as
    | { info?: Record<string, string> }
    | null;
  if (!adapter) return { ok: false, why: 'no WebGPU adapter was found (no GPU, or no Vulkan driver / ICD for it)' };
  try {
    const nav = (globalThis as unknown as { navigator?: object }).navigator;
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    await import(/* @vite-ignore */ '@tensorflow/tfjs-backend-webgpu');
  } catch (error) {
    return { ok: false, why: `@tensorflow/tfjs-backend-webgpu is not installed (${messageOf(error).split('\n')[0]})` };
  }
  if (!(await tf.setBackend('webgpu').catch(() => false))) return { ok: false, why: 'the tfjs WebGPU backend failed to initialise' };
  const info = adapter.info ?? {};
  const described: Record<string, string> = {};
  for (const key of ['vendor', 'architecture', 'device', 'description']) if (info[key]) described[key] = String(info[key]);
  return { ok: true, adapter: described };
}

async function tryWasm(threads: number | undefined): Promise<Attempt> {
  try {
    const wasm = (await import(/* @vite-ignore */ '@tensorflow/tfjs-backend-wasm')) as { setThreadsCount?: (n: number) => void };
    if (threads && wasm.setThreadsCount) wasm.setThreadsCount(threads);
  } catch (error) {
    return { ok: false, why: `@tensorflow/tfjs-backend-wasm is not installed (${messageOf(error).split('\n')[0]})` };
  }
  if (!(await tf.setBackend('wasm').catch(() => false))) return { ok: false, why: 'the wasm backend failed to initialise' };
  return { ok: true };
}

async function tryCpu(): Promise<Attempt> {
  try {
    await import(/* @vite-ignore */ '@tensorflow/tfjs-backend-cpu');
  } catch (error) {
    return { ok: false, why: `@tensorflow/tfjs-backend-cpu is not installed (${messageOf(error).split('\n')[0]})` };
  }
  if (!(await tf.setBackend('cpu').catch(() => false))) return { ok: false, why: 'the cpu backend failed to initialise' };
  return { ok: true };
}

function attempt(name: BackendName, options: InitBackendOptions): Promise<Attempt> {
  switch (name) {
    case 'tensorflow': return tryTensorflow();
    case 'webgpu': return tryWebgpu();
    case 'wasm': return tryWasm(options.wasmThreads);
    case 'cpu': return tryCpu();
  }
}

/**
 * Picks and starts the tensor backend. Call it once from an application (CLI, example, test setup),
 * never from library code. `auto` tries tensorflow, webgpu, wasm, cpu in that order and says why.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const choice = options.backend ?? 'auto';
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new BackendUnavailableError(`Unknown backend "${choice}"; choose one of ${BACKEND_CHOICES.join(', ')}.`, {
      backend: String(choice),
      hint: `Use one of ${BACKEND_CHOICES.join(', ')}.`,
    });
  }
  if (choice !== 'auto') {
    const result = await attempt(choice, options);
    if (!result.ok) {
      throw new BackendUnavailableError(`The "${choice}" backend is not available here: ${result.why}. ${HINTS[choice]}`, {
        backend: choice,
        hint: HINTS[choice],
      });
    }
    const info: BackendInfo = { backend: choice, reason: `asked for by name` };
    if (result.adapter) info.adapter = result.adapter;
    options.log?.(`backend ${choice}: ${info.reason}`);
    return info;
  }
  const passedOver: string[] = [];
  for (const name of ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const) {
    const result = await attempt(name, options);
    if (result.ok) {
      const reason = passedOver.length ? `auto: ${passedOver.join('; ')}; so ${name}` : `auto: ${name} is the fastest available`;
      options.log?.(`backend ${name}: ${reason}`);
      const info: BackendInfo = { backend: name, reason };
      if (result.adapter) info.adapter = result.adapter;
      return info;
    }
    passedOver.push(`${name} unavailable (${result.why})`);
    options.log?.(`backend ${name}: ${result.why}`);
  }
  throw new BackendUnavailableError(`No tensor backend could start: ${passedOver.join('; ')}.`, { backend: 'auto', hint: HINTS.wasm });
}

/** Registers every gradient tfjs knows; call where training starts (importing tfjs-core alone registers none). */
export async function registerGradients(): Promise<void> {
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
}
