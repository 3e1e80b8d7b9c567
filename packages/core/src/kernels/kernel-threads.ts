import { Worker } from "node:worker_threads";
import { LlamatsError } from "../errors.js";

/** Control words at the start of the shared block: [0] job generation, [1] jobs finished, [2] jobs failed, [3] spins. */
const GENERATION = 0;
const FINISHED = 1;
const FAILED = 2;
/** Float64 slots per worker job: [export index, argument count, arguments…]. */
const SLOT = 32;
/** Spins before a thread sleeps after a job (short: long spins slowed training's tfjs ops between our matmuls). */
export const SPINS = 20_000;
/**
 * Spins for token-by-token decoding: waking a sleeping thread can take up to a millisecond on a VM (its vCPU halts),
 * and a decode step's jobs come ~40 per token with gaps between tokens (stories15M, 2 threads: 1.0–1.3× → 1.6–1.95×
 * llama2.c in the same runs).
 */
export const DECODE_SPINS = 200_000;

// Each worker instantiates the kernels on the shared memory and runs the jobs posted to its slot.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { memory, module, control, slot, names, generation } = workerData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const words = new Int32Array(control, 0, 4);
const jobs = new Float64Array(control, 16);
const fns = names.map((n) => exports[n]);
// The generation when this worker was made: a job posted while it was still starting runs at once.
let seen = generation;
for (;;) {
  let n = 0;
  const spins = Atomics.load(words, 3);
  while (Atomics.load(words, 0) === seen && n < spins) n++;
  if (Atomics.load(words, 0) === seen) Atomics.wait(words, 0, seen);
  seen = Atomics.load(words, 0);
  const base = slot * ${SLOT};
  const fn = jobs[base];
  if (fn < 0) break;
  try {
    const argc = jobs[base + 1];
    const args = new Array(argc);
    for (let i = 0; i < argc; i++) args[i] = jobs[base + 2 + i];
    fns[fn](...args);
  } catch (error) {
    Atomics.add(words, 2, 1);
  }
  Atomics.add(words, 1, 1);
  Atomics.notify(words, 1);
}
`;

type KernelFn = (...args: number[]) => void;

/**
 * Worker threads that run kernel calls on tfjs's shared wasm memory next to the main thread: `run` hands
 * one argument list to each thread (the main thread takes the first) and returns when all are done.
 */
export class KernelThreads {
  readonly size: number;
  private readonly words: Int32Array;
  private readonly jobs: Float64Array;
  private readonly workers: Worker[] = [];
  private readonly names: string[];

  constructor(memory: WebAssembly.Memory, module: WebAssembly.Module, names: string[], threads: number) {
    this.names = names;
    this.size = Math.max(1, threads);
    const control = new SharedArrayBuffer(16 + 8 * SLOT * Math.max(1, this.size - 1));
    this.words = new Int32Array(control, 0, 4);
    this.jobs = new Float64Array(control, 16);
    this.words[3] = SPINS;
    for (let slot = 0; slot < this.size - 1; slot++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { memory, module, control, slot, names, generation: 0 },
      });
      // Never keeps the process alive; idle workers sleep in Atomics.wait.
      worker.unref();
      this.workers.push(worker);
    }
  }

  /**
   * Runs fn(argsPerThread[t]) on thread t (t = 0 on this thread); at most `size` lists. `spins`: how long every
   * thread spins for the next job before sleeping (SPINS, or DECODE_SPINS for many short jobs in a row).
   */
  run(name: string, main: KernelFn, argsPerThread: number[][], spins = SPINS): void {
    const others = argsPerThread.length - 1;
    if (others <= 0) {
      if (argsPerThread.length === 1) main(...argsPerThread[0]);
      return;
    }
    const fn = this.names.indexOf(name);
    for (let t = 1; t <= others; t++) {
      const base = (t - 1) * SLOT;
      const args = argsPerThread[t];
      this.jobs[base] = fn;
      this.jobs[base + 1] = args.length;
      for (let i = 0; i < args.length; i++) this.jobs[base + 2 + i] = args[i];
    }
    // Workers without a job this round get an empty one (argument count 0 is never valid: mark skip).
    for (let t = others + 1; t < this.size; t++) {
      this.jobs[(t - 1) * SLOT] = this.names.indexOf("noop");
      this.jobs[(t - 1) * SLOT + 1] = 0;
    }
    Atomics.store(this.words, FINISHED, 0);
    Atomics.store(this.words, 3, spins);
    Atomics.add(this.words, GENERATION, 1);
    Atomics.notify(this.words, GENERATION);
    main(...argsPerThread[0]);
    const want = this.size - 1;
    let waited = 0;
    for (;;) {
      const done = Atomics.load(this.words, FINISHED);
      if (done >= want) break;
      if (++waited > spins) Atomics.wait(this.words, FINISHED, done, 5);
    }
    if (Atomics.load(this.words, FAILED) > 0) {
      Atomics.store(this.words, FAILED, 0);
      throw new LlamatsError(
        `A llamats wasm kernel (${name}) failed on a worker thread; run with LLAMATS_WASM_KERNELS=0 to use tfjs-backend-wasm's own kernels.`,
      );
    }
  }

  dispose(): void {
    for (let t = 0; t < this.size - 1; t++) this.jobs[t * SLOT] = -1;
    Atomics.add(this.words, GENERATION, 1);
    Atomics.notify(this.words, GENERATION);
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}
