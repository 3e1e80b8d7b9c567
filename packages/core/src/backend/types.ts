export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface WasmInfo {
  /** Threads XNNPACK runs on (1 where the runtime has no wasm threads, as in Node). */
  threads: number;
  simd: boolean;
  multithread: boolean;
}

export interface BackendInfo {
  /** The tfjs backend now active. */
  backend: BackendName;
  /** Why it was chosen, short: e.g. "tfjs-node not installed; no WebGPU adapter (no Vulkan driver); using wasm". */
  reason: string;
  /** GPU adapter description, for webgpu. */
  adapter?: Record<string, string>;
  /** The package that provided the tensorflow backend. */
  nativePackage?: string;
  /** Threads and SIMD, for wasm. */
  wasm?: WasmInfo;
}

export interface InitBackendOptions {
  backend?: BackendChoice;
  /** Receives one line per backend tried, with details. */
  log?: (line: string) => void;
  /** Threads for the wasm backend where the runtime supports wasm threads. */
  wasmThreads?: number;
}
