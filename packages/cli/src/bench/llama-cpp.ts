// llama.cpp beside us in `bench generate --llama-cpp`: the bench's own weights exported to a temporary GGUF and
// decoded by node-llama-cpp (CPU build), same prompt, same token count, best of the same number of runs, at each
// thread count up to ours: its best one is the peer (its threads spin-wait, so fewer can be faster on a busy machine).
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { LlamatsError } from "@llamats/core";
import { exportGguf, type GgufFileType, type LlamaForCausalLM } from "@llamats/llama-model";
import type { SentencePieceVocabulary } from "@llamats/tokenizer";

/** What running llama.cpp gave for one weight type: its best tokens/s, or why it did not run. */
export type LlamaCppResult =
  | {
      type: GgufFileType;
      tokensPerS: number;
      cpuMsPerToken: number;
      /** The thread count of the best run. */
      threads: number;
      runs: number;
      /** Best tokens/s at each thread count tried. */
      byThreads: Record<string, number>;
    }
  | { skipped: string };

/** Thread counts llama.cpp is timed at: 1, 2, 4, … below `threads`, and `threads`. */
export function llamaCppThreadCounts(threads: number): number[] {
  const counts: number[] = [];
  for (let t = 1; t < threads; t *= 2) counts.push(t);
  return [...counts, threads];
}

/** "best at 1 thread (1: 240, 2: 71 tokens/s)": the thread count the peer's figure comes from, and the others. */
export function llamaCppThreads(r: Extract<LlamaCppResult, { byThreads: unknown }>): string {
  const all = Object.entries(r.byThreads).map(([t, v]) => `${t}: ${v.toFixed(1)}`);
  return `best at ${r.threads} thread${r.threads > 1 ? "s" : ""}${all.length > 1 ? ` (${all.join(", ")} tokens/s)` : ""}`;
}

/** The few parts of node-llama-cpp's API the bench uses (it is not a dependency of the CLI, so typed here). */
interface NodeLlamaCpp {
  getLlama(options: { gpu: false; build: "never"; logLevel: "error"; maxThreads: number }): Promise<{
    loadModel(options: { modelPath: string }): Promise<{
      createContext(options: { contextSize: number; threads: { ideal: number; min: number } }): Promise<{
        getSequence(): {
          evaluate(tokens: number[], options: { temperature: 0; yieldEogToken: true }): AsyncGenerator<number>;
          clearHistory(): Promise<void>;
        };
        dispose(): Promise<void>;
      }>;
      dispose(): Promise<void>;
    }>;
    dispose(): Promise<void>;
  }>;
}

const INSTALL_HINT =
  "node-llama-cpp is not installed where llamats can find it. In a llamats checkout run `pnpm install` " +
  "(the private interop/llama-cpp package has it); elsewhere run `npm install node-llama-cpp@3.21.1` in the folder you run the bench from";

/** node-llama-cpp from the current folder, else from this checkout's interop/llama-cpp package. */
async function importNodeLlamaCpp(cwd: string): Promise<NodeLlamaCpp> {
  const interop = fileURLToPath(new URL("../../../interop/llama-cpp/package.json", import.meta.url));
  const tried: string[] = [];
  for (const from of [join(cwd, "package.json"), interop]) {
    try {
      const path = createRequire(from).resolve("node-llama-cpp");
      return (await import(pathToFileURL(path).href)) as NodeLlamaCpp;
    } catch (error) {
      tried.push(`${from}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  throw new LlamatsError(`${INSTALL_HINT}. Looked from ${tried.join("; ")}`);
}

/**
 * Placeholder tokens for the bench's random model (it has no tokenizer): llama.cpp needs a vocabulary to load, in
 * LLaMA's layout (<unk>, <s>, </s>, the 256 byte tokens it looks up, e.g. <0x0A> for a newline), then plain tokens.
 */
function placeholderVocabulary(vocabSize: number): SentencePieceVocabulary {
  const byte = (id: number): string => `<0x${(id - 3).toString(16).toUpperCase().padStart(2, "0")}>`;
  const tokens = Array.from({ length: vocabSize }, (_, id) =>
    id === 0 ? "<unk>" : id === 1 ? "<s>" : id === 2 ? "</s>" : id < 259 ? byte(id) : `t${id}`,
  );
  return {
    kind: "sentencepiece",
    tokens,
    scores: new Float32Array(vocabSize),
    types: tokens.map((_, id) => (id === 0 ? "unknown" : id < 3 ? "control" : id < 259 ? "byte" : "normal")),
    bosTokenId: 1,
    eosTokenId: 2,
    unknownTokenId: 0,
    paddingTokenId: null,
    addBosToken: true,
    addEosToken: false,
    chatTemplate: undefined,
  };
}

export interface RunLlamaCppOptions {
  model: LlamaForCausalLM;
  types: readonly GgufFileType[];
  prompt: number[];
  newTokens: number;
  threads: number;
  repeat: number;
  cwd: string;
  signal: AbortSignal;
  log?: (line: string) => void;
}

/** For each weight type: export, load, then time `repeat` greedy runs of `newTokens` tokens (EOS not stopping them). */
export async function runLlamaCpp(options: RunLlamaCppOptions): Promise<LlamaCppResult[]> {
  const nodeLlamaCpp = await importNodeLlamaCpp(options.cwd);
  const dir = await mkdtemp(join(tmpdir(), "llamats-bench-gguf-"));
  const llama = await nodeLlamaCpp.getLlama({
    gpu: false,
    build: "never",
    logLevel: "error",
    maxThreads: options.threads,
  });
  try {
    const results: LlamaCppResult[] = [];
    for (const type of options.types) {
      const path = join(dir, `bench-${type}.gguf`);
      await exportGguf(options.model, {
        path,
        vocabulary: placeholderVocabulary(options.model.config.vocabSize),
        type,
      });
      const model = await llama.loadModel({ modelPath: path });
      try {
        let best: { tokensPerS: number; cpuMsPerToken: number; threads: number } | null = null;
        const byThreads: Record<string, number> = {};
        let runs = 0;
        for (const threads of llamaCppThreadCounts(options.threads)) {
          const timed = await timeContext(model, { ...options, threads, type });
          if (!timed) break;
          runs += timed.runs;
          byThreads[threads] = timed.tokensPerS;
          if (!best || timed.tokensPerS > best.tokensPerS) best = { ...timed, threads };
        }
        results.push(best ? { type, ...best, runs, byThreads } : { skipped: "interrupted" });
      } finally {
        await model.dispose();
      }
    }
    return results;
  } finally {
    await llama.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

type LoadedModel = Awaited<ReturnType<Awaited<ReturnType<NodeLlamaCpp["getLlama"]>>["loadModel"]>>;

/** One untimed warm-up run, then `repeat` timed ones, as for ours: the best run's tokens/s and CPU per token. */
async function timeContext(
  model: LoadedModel,
  options: RunLlamaCppOptions & { type: GgufFileType },
): Promise<{ tokensPerS: number; cpuMsPerToken: number; runs: number } | null> {
  const context = await model.createContext({
    contextSize: options.prompt.length + options.newTokens + 8,
    threads: { ideal: options.threads, min: options.threads },
  });
  try {
    const sequence = context.getSequence();
    let best = 0;
    let bestCpuMs = 0;
    let runs = 0;
    for (let r = -1; r < options.repeat && !options.signal.aborted; r++) {
      await sequence.clearHistory();
      const ids: number[] = [];
      // llama.cpp's threads are this process's threads: its CPU time counts as ours does.
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for await (const id of sequence.evaluate(options.prompt, { temperature: 0, yieldEogToken: true })) {
        if (ids.push(id) === options.newTokens) break;
      }
      const tokensPerS = ids.length / ((performance.now() - t0) / 1000);
      const cpu = process.cpuUsage(cpu0);
      if (r < 0) continue;
      runs++;
      if (tokensPerS > best) {
        best = tokensPerS;
        bestCpuMs = (cpu.user + cpu.system) / 1000 / ids.length;
      }
      const threads = `${options.threads} thread${options.threads > 1 ? "s" : ""}`;
      options.log?.(
        `llama.cpp ${options.type}, ${threads}, run ${r + 1}/${options.repeat}: ${tokensPerS.toFixed(1)} tokens/s`,
      );
    }
    return runs > 0 ? { tokensPerS: best, cpuMsPerToken: bestCpuMs, runs } : null;
  } finally {
    await context.dispose();
  }
}
