export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";
export type BackendChoice = "auto" | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "tensorflow", "webgpu", "wasm", "cpu"];

export interface WasmInfo {
  /** Threads XNNPACK runs on (`wasmThreads`, default 1). */
  threads: number;
  simd: boolean;
  /** Whether the threaded SIMD build is running. */
  multithread: boolean;
  /** Whether llamats' SIMD kernels replace tfjs-backend-wasm's matmul and exp (`wasmKernels`). */
  kernels: boolean;
  /** Why it runs on one thread although more were asked for, e.g. "one thread: a pthread worker failed to start: ...". */
  note?: string;
}

export interface WebgpuInfo {
  /** The adapter is a CPU emulation (lavapipe/llvmpipe, SwiftShader). */
  software: boolean;
  /** The largest storage buffer one kernel may bind: bigger tensors are split (LlamaModelOptions.maxTensorBytes). */
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** The device was created with the `subgroups` feature, so kernels with subgroup paths use them. */
  subgroups: boolean;
  /** The adapter's subgroup size range (invocations a subgroup), when it has subgroups and reports one. */
  subgroupSizes?: { min: number; max: number };
  /** One line for the user, e.g. that a software adapter is slow. */
  warning?: string;
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
  /** Adapter limits and warnings, for webgpu. */
  webgpu?: WebgpuInfo;
}

export interface InitBackendOptions {
  /** Sets tfjs's PROD flag (no debug checks, no console banners); default true. */
  production?: boolean;
  backend?: BackendChoice;
  /** Receives one line per backend tried, with details. */
  log?: (line: string) => void;
  /**
   * Threads for the wasm backend (at most 8; `os.availableParallelism()` for one a core). Default 1: with 2 threads
   * large matmuls can use both cores, but each small op then waits on the thread pool, and on a loaded 2-core
   * machine greedy decoding of stories15M ran at 11 tokens/s instead of 65.
   */
  wasmThreads?: number;
  /**
   * Run matmuls and exp on llamats' own WebAssembly SIMD kernels (on every wasm thread) instead of tfjs-backend-wasm's;
   * default true (the environment variable LLAMATS_WASM_KERNELS=0 turns it off, for comparisons).
   */
  wasmKernels?: boolean;
  /**
   * Request WebGPU's `subgroups` feature when the adapter offers it, so reductions and decode-step products use
   * subgroup operations; default true (the environment variable LLAMATS_WEBGPU_SUBGROUPS=0 turns it off, for
   * comparisons and to test the other path). Applies when the webgpu backend is made (once per process, or again
   * after releaseBackend()).
   */
  webgpuSubgroups?: boolean;
}
