import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { BACKEND_CHOICES, ConfigError, type BackendChoice } from "@llamats/core";

export interface DemoOptions {
  outDir: string;
  /** A base model folder other than the embedded one (e.g. one re-made by examples/pretrain-tiny-base). */
  baseModelDir: string | undefined;
  steps: number;
  backend: BackendChoice;
  /** wasm threads; the command sets every core (tests leave it at 1). */
  wasmThreads?: number;
  /** Receives the backend's one-line warning (the command sends it to stderr; the report goes to stdout). */
  warn?: (line: string) => void;
  quick: boolean;
  /** Held-out items scored per family (default: 1 with --quick, all 8 otherwise). */
  heldOutPerFamily?: number;
  seed: number;
}

/** Full run: enough LoRA steps for a clear held-out gain on 2 CPU cores in a few minutes. */
const DEFAULT_STEPS = 250;
/** `--quick`: a smoke run for CI (well under a minute). */
const QUICK_STEPS = 2;

function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(`${flag} must be a positive integer, found "${value}".`, { key: flag });
  return n;
}

/** Parses `llamats demo` arguments; relative paths resolve against the caller's working directory. */
export function parseDemoOptions(args: string[], cwd: string): DemoOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      out: { type: "string", default: "./llamats-demo-out" },
      steps: { type: "string" },
      backend: { type: "string", default: "auto" },
      quick: { type: "boolean", default: false },
      seed: { type: "string", default: "42" },
      base: { type: "string" },
    },
  });
  const backend = values.backend as BackendChoice;
  if (!BACKEND_CHOICES.includes(backend)) {
    throw new ConfigError(`--backend must be one of ${BACKEND_CHOICES.join(", ")}, found "${values.backend}".`, {
      key: "--backend",
    });
  }
  const quick = values.quick ?? false;
  return {
    outDir: resolve(cwd, values.out ?? "./llamats-demo-out"),
    baseModelDir: values.base !== undefined ? resolve(cwd, values.base) : undefined,
    steps: values.steps !== undefined ? positiveInteger(values.steps, "--steps") : quick ? QUICK_STEPS : DEFAULT_STEPS,
    backend,
    quick,
    seed: positiveInteger(values.seed ?? "42", "--seed"),
  };
}

export const DEMO_USAGE = `llamats demo [--out DIR] [--steps N] [--backend auto|tensorflow|webgpu|wasm|cpu] [--quick]

Runs the whole pipeline offline on the embedded tiny LLaMA (pretrained from scratch on the Brown Corpus by
examples/pretrain-tiny-base): LoRA-fine-tunes it on an embedded Alpaca-format instruction set, and shows
answers and a held-out score before and after. Takes a few minutes on 2 CPU cores.

Options:
  --out DIR       where the adapter, metrics.jsonl and loss-curve.svg go (default ./llamats-demo-out)
  --steps N       LoRA optimizer steps (default ${DEFAULT_STEPS}; ${QUICK_STEPS} with --quick)
  --backend NAME  tensor backend (default auto: the fastest available; wasm on a plain CPU machine)
  --quick         smoke run: few steps, a small held-out sample (for CI; under a minute)
  --seed N        data order and LoRA initialisation (default 42)
  --base DIR      use this base model folder instead of the embedded one (same tokenizer family)`;
