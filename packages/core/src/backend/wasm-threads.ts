import { resolveObjectURL } from "node:buffer";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { Worker as NodeWorker, type WorkerOptions } from "node:worker_threads";
import { WORKER_BOOTSTRAP, WORKER_FAILED } from "./wasm-worker-bootstrap.js";

/** The pthread workers tfjs-backend-wasm preallocates (PTHREAD_POOL_SIZE); its C side caps threads there too. */
export const MAX_WASM_THREADS = 8;

/** The `require$$N` names of tfjs-backend-wasm 4.22's node bundle, used when its header cannot be read. */
const DEFAULT_REQUIRES: Record<string, string> = {
  require$$0: "fs",
  require$$1: "path",
  require$$3: "perf_hooks",
  require$$4: "os",
};

/** The bundle's `var require$$N = require('x');` lines: the factory tfjs sends to workers refers to those names. */
function bundleRequires(): Record<string, string> {
  try {
    const main = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
    const head = readFileSync(main, "utf8").slice(0, 4000);
    const found = Object.fromEntries(
      [...head.matchAll(/var (require\$\$\d+) = require\('([\w/:]+)'\);/g)].map((m) => [m[1], m[2]]),
    );
    return Object.keys(found).length > 0 ? found : DEFAULT_REQUIRES;
  } catch {
    return DEFAULT_REQUIRES;
  }
}

/** The process's flags minus --input-type (workers inherit it, and `node --input-type=module -e` would make our bootstrap ESM). */
function commonJsExecArgv(): string[] {
  const args = process.execArgv;
  return args.filter((a, i) => !a.startsWith("--input-type") && args[i - 1] !== "--input-type");
}

export interface WasmThreadsShim {
  /** Rejects with a short reason when a pthread worker fails to start. */
  failed: Promise<never>;
  /** Ends the init window: on success keeps blob-aware workers for later pthreads; otherwise stops them and undoes the shim. */
  finish(ok: boolean): void;
}

/**
 * Lets tfjs-backend-wasm's threaded SIMD build start in Node for the duration of one `tf.setBackend('wasm')`:
 * Emscripten starts pthread workers from a blob: URL (Node needs a path or code) and the C side caps threads at
 * `os.cpus().length / 2` (assuming hyper-threads). Workers are unref'd so they never keep the process alive.
 */
export function installWasmThreadsShim(threads: number): WasmThreadsShim {
  const requires = bundleRequires();
  const workers: NodeWorker[] = [];
  let initializing = true;
  let reject: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, r) => (reject = r));
  failed.catch(() => {});

  class BlobWorker extends NodeWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      const script = typeof url === "string" && url.startsWith("blob:") ? resolveObjectURL(url) : undefined;
      if (script)
        super(WORKER_BOOTSTRAP, {
          ...options,
          eval: true,
          workerData: { script, requires },
          execArgv: commonJsExecArgv(),
        });
      else super(url, options);
      workers.push(this);
      this.unref();
    }

    // Emscripten refs a worker while it runs a pthread; XNNPACK's pool threads live forever, so stay unref'd.
    override ref(): void {}

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      const data = args[0] as { cmd?: string; message?: string } | undefined;
      if (event === "message" && data?.cmd === WORKER_FAILED) {
        reject(new Error(`a pthread worker failed to start: ${String(data.message).split("\n")[0]}`));
        return true;
      }
      // Emscripten rethrows worker errors on the main thread; during init that would crash instead of falling back.
      if (event === "error" && initializing) {
        reject(new Error(`a pthread worker failed: ${args[0] instanceof Error ? args[0].message : String(args[0])}`));
        return true;
      }
      return super.emit(event, ...args);
    }
  }

  const previousWorker = Object.getOwnPropertyDescriptor(globalThis, "Worker");
  // Emscripten assigns worker_threads.Worker to globalThis.Worker when its module starts; keep ours in place.
  Object.defineProperty(globalThis, "Worker", { configurable: true, get: () => BlobWorker, set: () => {} });
  const osModule = os as { cpus: typeof os.cpus };
  const cpus = osModule.cpus;
  const core = { model: "wasm threads", speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
  osModule.cpus = () => Array.from({ length: 2 * threads }, () => core);

  return {
    failed,
    finish(ok) {
      initializing = false;
      osModule.cpus = cpus;
      if (ok) {
        Object.defineProperty(globalThis, "Worker", { configurable: true, writable: true, value: BlobWorker });
        return;
      }
      if (previousWorker) Object.defineProperty(globalThis, "Worker", previousWorker);
      else delete (globalThis as { Worker?: unknown }).Worker;
      for (const worker of workers) void worker.terminate();
    },
  };
}
