import { availableParallelism } from "node:os";
import { BACKEND_CHOICES, ConfigError, type BackendChoice } from "@llamats/core";

/** The `--backend` option's help line, shared by every command that runs a model. */
export const BACKEND_USAGE = `  --backend <name>   tensor backend: ${BACKEND_CHOICES.join(" | ")} (default auto: fastest available)`;

/** Checks a `--backend` value; undefined means auto. */
export function parseBackendOption(value: string | undefined): BackendChoice {
  if (value === undefined) return "auto";
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new ConfigError(`--backend must be one of ${BACKEND_CHOICES.join(", ")}; got "${value}".`, { key: "backend" });
}

/**
 * Threads for the wasm backend in CLI runs: every core (measured on 2 cores: LoRA training 0.23× → 0.41× of
 * PyTorch, generation 87 → 144 tokens/s), unless LLAMATS_WASM_THREADS says otherwise (1 suits a busy machine).
 */
export function cliWasmThreads(env: NodeJS.ProcessEnv): number {
  const raw = env.LLAMATS_WASM_THREADS;
  if (raw === undefined || raw === "") return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError(`LLAMATS_WASM_THREADS must be a whole number ≥ 1; got "${raw}".`, {
      key: "LLAMATS_WASM_THREADS",
    });
  }
  return n;
}
