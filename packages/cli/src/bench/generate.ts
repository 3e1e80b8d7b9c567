import { parseArgs } from "node:util";
import { countGpuDispatches, gpuMemory, resetGpuMemoryPeak } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { SeededRng } from "@llamats/trainer";
import * as tf from "@tensorflow/tfjs-core";
import type { CommandContext } from "../command.js";
import { BACKEND_USAGE, cliWasmThreads, parseBackendOption } from "../backend-option.js";
import { startBackend, warnTo } from "../start-backend.js";
import { parseWeightsOption } from "../weights-option.js";
import { gpuDispatchLine } from "./gpu-dispatch-line.js";
import { runLlama2c, type Llama2cResult } from "./llama2c.js";
import { llamaCppThreads, runLlamaCpp, type LlamaCppResult } from "./llama-cpp.js";
import {
  describeShape,
  intOption,
  readModelShape,
  SHAPE_OPTIONS,
  SHAPE_USAGE,
  type ModelShape,
  type ShapePresetName,
} from "./shape-options.js";
import { runTransformersGenerate, type TransformersResult } from "./transformers-generate.js";

/** llama2.c (C, OpenMP, 2 threads), fp32, stories15M shape, batch 1, 256 tokens with a KV cache: shared/docs/anchors.md. */
const LLAMA2C_TOKENS_PER_S = 211;

/** The model config of a bench shape: stories15M ties its embeddings (as llama2.c's checkpoint), TinyLlama does not. */
export function benchModelConfig(shape: ModelShape, preset: ShapePresetName, positions: number) {
  return {
    model_type: "llama",
    vocab_size: shape.vocab,
    hidden_size: shape.dim,
    intermediate_size: shape.ffn,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    // stories15M's context is 256; 1024 positions so 256 new tokens after a prompt fit.
    max_position_embeddings: Math.max(1024, positions),
    rms_norm_eps: 1e-5,
    tie_word_embeddings: preset === "stories15m",
    bos_token_id: 1,
    eos_token_id: 2,
  };
}

/** BOS, then `length - 1` fixed pseudo-random ids (seed 42) above the special ids 0-2: the same prompt every run. */
export function benchPrompt(length: number, vocab: number): number[] {
  const rng = new SeededRng(42);
  return [1, ...Array.from({ length: length - 1 }, () => 3 + rng.nextInt(vocab - 3))];
}

const USAGE = `llamats bench generate [--backend wasm] [--threads n] [--shape stories15m] [--new-tokens 256] [--prompt-tokens 1] [--repeat 3] [--llama2c dir] [--weights int8] [--llama-cpp] [--transformers] [--sample] [--json]

Tokens/s of KV-cache generation for a randomly initialised model of the stories15M shape (dim 288, 6 layers,
6 heads, ffn 768, vocab 32000, tied embeddings) or another (--shape, --dim …), batch 1, prompt = BOS (or
--prompt-tokens fixed pseudo-random ids), EOS ignored. Prints the best of
--repeat runs, the CPU time per token (less sensitive to other load on the machine than wall time), and
the ratio to llama2.c: measured in the same run on the same weights when --llama2c gives a built llama2.c
checkout (git clone https://github.com/karpathy/llama2.c && make run, or make runomp for its OpenMP build),
else against the ${LLAMA2C_TOKENS_PER_S} tokens/s of shared/docs/anchors.md (2 threads, this machine kind).

Options:
${BACKEND_USAGE.replace("default auto: fastest available", "default wasm")}
${SHAPE_USAGE}
  --prompt-tokens <n>  prompt length: BOS, then fixed pseudo-random ids (default 1: BOS only)
  --transformers     also run transformers' LlamaForCausalLM.generate() (alias --torch): a random init of the same
                     shape (its weights are not ours: a speed race), fp32, greedy, KV cache, on CUDA when available
                     else the CPU, same prompt length and new tokens, warm-up then best of --repeat
                     (bench-references/transformers_generate.py; needs python with torch and transformers)
  --transformers-script <py>  that script elsewhere
  --python <exe>     the python for it (default python3, then /usr/bin/python3)
  --threads <n>      wasm threads, ours and llama2.c's OpenMP threads (default: every core; LLAMATS_WASM_THREADS)
  --llama2c <dir>    a built llama2.c checkout (its run binary and tokenizer.bin), run beside us
  --llama-cpp        also run llama.cpp (node-llama-cpp's CPU build) on the same weights exported as GGUF, f32 and
                     q8_0: same prompt and token count, best of --repeat at 1, 2, 4, … up to --threads threads, its
                     best thread count being the peer (greedy only; needs node-llama-cpp, which a llamats checkout
                     installs in interop/llama-cpp)
  --new-tokens <n>   tokens to generate per run (default 256)
  --repeat <n>       timed runs; the best is reported (default 3)
  --weights <format> projections as bf16, int8 (Q8_0) or nf4 (block 32: dim 288 is not whole 64-blocks), measured
                     beside the float32 model in the same run (llama2.c is then not run: its 8-bit runq needs its
                     own checkpoint export)
  --sample           sample (temperature 1, top-p 0.9, like llama2.c's defaults) instead of greedy decoding
  --json             print one JSON object`;

/** GPU dispatches of the first step (prompt + first token) and, on average, of each later token. */
interface DecodeDispatches {
  firstToken: number;
  perToken: number | null;
}

/** From the dispatch count read at each token (`marks`, cumulative). */
function decodeDispatches(marks: readonly number[]): DecodeDispatches | null {
  if (marks.length === 0) return null;
  const decodeSteps = marks.length - 1;
  const perToken = decodeSteps > 0 ? (marks[decodeSteps] - marks[0]) / decodeSteps : null;
  return { firstToken: marks[0], perToken: perToken === null ? null : Number(perToken.toFixed(1)) };
}

/** The run with the most tokens/s (runs is not empty). */
function fastest<T extends { tokensPerS: number }>(runs: T[]): T {
  return runs.reduce((a, b) => (b.tokensPerS > a.tokensPerS ? b : a));
}

interface TimedRun {
  tokensPerS: number;
  cpuMsPerToken: number;
  dispatches: DecodeDispatches | null;
  /** Null off webgpu: the most GPU buffer bytes held at once during the run (weights and KV cache included). */
  gpuPeakBytes: number | null;
}

/** A warm-up, then `repeat` timed generations (stderr lines labelled `label` unless null). */
async function timeRuns(
  model: LlamaForCausalLM,
  prompt: number[],
  options: Parameters<LlamaForCausalLM["generate"]>[1],
  repeat: number,
  ctx: CommandContext,
  label: string | null,
): Promise<TimedRun[]> {
  await model.generate(prompt, { ...options, maxNewTokens: 16 });
  const runs: TimedRun[] = [];
  for (let r = 0; r < repeat && !ctx.signal.aborted; r++) {
    // Null off webgpu; the count at each token splits the prompt's step from the decode steps.
    const dispatches = countGpuDispatches();
    const marks: number[] = [];
    const onToken = dispatches ? () => void marks.push(dispatches.count()) : undefined;
    resetGpuMemoryPeak();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const [out] = await model
      .generate(prompt, { ...options, ...(onToken ? { onToken } : {}) })
      .finally(() => dispatches?.stop());
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const produced = out.length - prompt.length;
    runs.push({
      tokensPerS: produced / seconds,
      cpuMsPerToken: (cpu.user + cpu.system) / 1000 / produced,
      dispatches: dispatches ? decodeDispatches(marks) : null,
      gpuPeakBytes: gpuMemory()?.peakBytes ?? null,
    });
    if (label !== null)
      ctx.stderr.write(`run ${r + 1}/${repeat} (${label}): ${(produced / seconds).toFixed(1)} tokens/s\n`);
  }
  return runs;
}

/** The report's line for transformers' generate(): its speed and our ratio, or why it did not run. */
function transformersLine(result: TransformersResult, ratio: number | null): string {
  if (!("tokensPerS" in result)) return `  transformers generate(): not run (${result.skipped})\n`;
  const memory = result.cudaPeakBytes === null ? "" : `, peak CUDA ${(result.cudaPeakBytes / 2 ** 20).toFixed(1)} MiB`;
  const where = result.deviceType === "cuda" ? result.device : `CPU, ${result.threads} threads`;
  return `  ${ratio}× transformers generate() measured in this run (${result.tokensPerS.toFixed(1)} tokens/s, ${result.dtype}, greedy, KV cache, ${where}, torch ${result.torch}, transformers ${result.transformers}${memory}; random init of the same shape, not our weights)\n`;
}

export async function runGenerateBench(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      backend: { type: "string" },
      threads: { type: "string" },
      llama2c: { type: "string" },
      "llama-cpp": { type: "boolean", default: false },
      "new-tokens": { type: "string", default: "256" },
      "prompt-tokens": { type: "string", default: "1" },
      ...SHAPE_OPTIONS,
      transformers: { type: "boolean", default: false },
      torch: { type: "boolean", default: false },
      "transformers-script": { type: "string" },
      python: { type: "string" },
      repeat: { type: "string", default: "3" },
      sample: { type: "boolean", default: false },
      weights: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    ctx.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const newTokens = Number(values["new-tokens"]);
  const repeat = Number(values.repeat);
  const threads = values.threads === undefined ? cliWasmThreads(ctx.env) : Number(values.threads);
  if (![newTokens, repeat, threads].every((n) => Number.isInteger(n) && n >= 1)) {
    ctx.stderr.write("llamats bench generate: --new-tokens, --repeat and --threads must be whole numbers ≥ 1.\n");
    return 2;
  }
  const weights = parseWeightsOption(values.weights, "--weights") ?? "float32";
  const withTransformers = values.transformers || values.torch;
  if ((values["llama-cpp"] || withTransformers) && values.sample) {
    ctx.stderr.write(
      "llamats bench generate: --llama-cpp and --transformers compare greedy decoding; leave out --sample.\n",
    );
    return 2;
  }
  const { preset, name: shapeName, shape } = readModelShape(values);
  const promptTokens = intOption(values, "prompt-tokens", 1);
  const prompt = benchPrompt(promptTokens, shape.vocab);
  const config = benchModelConfig(shape, preset, promptTokens + newTokens);
  const isStories15m = shapeName === "stories15m";
  const backend = await startBackend({
    backend: values.backend === undefined ? "wasm" : parseBackendOption(values.backend),
    wasmThreads: threads,
    warn: warnTo(ctx.stderr),
  });
  const model = LlamaForCausalLM.fromConfig(config, { seed: 42, weights, nf4BlockSize: 32 });
  try {
    const options = {
      maxNewTokens: newTokens,
      eosTokenId: [] as number[],
      signal: ctx.signal,
      ...(values.sample ? { doSample: true, temperature: 1, topP: 0.9, seed: 1 } : {}),
    };
    const tensorsBefore = tf.memory().numTensors;
    const runs = await timeRuns(model, prompt, options, repeat, ctx, values.json ? null : weights);
    let float32Runs: TimedRun[] = [];
    if (weights !== "float32" && runs.length > 0) {
      // The float32 model on the same seed, in the same process, right after: the comparison the format is for.
      const float32 = LlamaForCausalLM.fromConfig(config, { seed: 42 });
      try {
        float32Runs = await timeRuns(float32, prompt, options, repeat, ctx, values.json ? null : "float32");
      } finally {
        float32.dispose();
      }
    }
    if (runs.length === 0) return 130;
    const best = fastest(runs);
    let llama2c: Llama2cResult = {
      skipped:
        weights !== "float32"
          ? `llama2.c's float32 run is not the ${weights} model's peer (its 8-bit runq needs its own checkpoint export)`
          : promptTokens !== 1
            ? "llama2.c runs its own text prompt; it is not this run's peer with --prompt-tokens"
            : "no --llama2c checkout given",
    };
    if (values.llama2c !== undefined && weights === "float32" && promptTokens === 1) {
      const tries: Llama2cResult[] = [];
      // Best of as many runs as ours, like ours.
      for (let r = 0; r < repeat && !ctx.signal.aborted; r++)
        tries.push(
          await runLlama2c({ given: values.llama2c, cwd: ctx.cwd, model, newTokens, threads, signal: ctx.signal }),
        );
      const ran = tries.filter((t): t is Extract<Llama2cResult, { tokensPerS: number }> => "tokensPerS" in t);
      llama2c = ran.length > 0 ? fastest(ran) : (tries[0] ?? llama2c);
      if (!values.json && "tokensPerS" in llama2c)
        ctx.stderr.write(
          `llama2.c (${llama2c.binary}, ${llama2c.threads} threads): best of ${ran.length}: ${llama2c.tokensPerS.toFixed(1)} tokens/s\n`,
        );
    }
    const sameRun = "tokensPerS" in llama2c ? llama2c.tokensPerS : null;
    // llama.cpp quantizes to Q8_0 from the float32 weights, as our int8 packing does: export the float32 twin.
    const exportSource = weights === "float32" ? model : LlamaForCausalLM.fromConfig(config, { seed: 42 });
    const llamaCpp: LlamaCppResult[] = values["llama-cpp"]
      ? await runLlamaCpp({
          model: exportSource,
          types: ["f32", "q8_0"],
          prompt,
          newTokens,
          threads,
          repeat,
          cwd: ctx.cwd,
          signal: ctx.signal,
          log: values.json ? undefined : (line) => ctx.stderr.write(`${line}\n`),
        })
      : [];
    if (exportSource !== model) exportSource.dispose();
    const transformers: TransformersResult = withTransformers
      ? await runTransformersGenerate({
          shape,
          tieEmbeddings: config.tie_word_embeddings,
          promptTokens,
          newTokens,
          repeat,
          ...(values["transformers-script"] === undefined ? {} : { script: values["transformers-script"] }),
          ...(values.python === undefined ? {} : { pythons: [values.python] }),
          cwd: ctx.cwd,
          signal: ctx.signal,
        })
      : { skipped: "no --transformers" };
    if (!values.json && withTransformers)
      ctx.stderr.write(
        "tokensPerS" in transformers
          ? `transformers generate() (${transformers.device}): best of ${transformers.runs}: ${transformers.tokensPerS.toFixed(1)} tokens/s\n`
          : `transformers generate(): not run (${transformers.skipped})\n`,
      );
    const llamaCppOf = (type: string) => llamaCpp.find((r) => "type" in r && r.type === type);
    const llamaCppF32 = llamaCppOf("f32");
    const llamaCppQ8 = llamaCppOf("q8_0");
    const oursFloat32 =
      weights === "float32" ? best.tokensPerS : float32Runs.length ? fastest(float32Runs).tokensPerS : null;
    const ratioTo = (ours: number | null, peer: LlamaCppResult | undefined): number | null =>
      ours !== null && peer && "tokensPerS" in peer ? Number((ours / peer.tokensPerS).toFixed(2)) : null;
    const report = {
      bench: "generate",
      shape: describeShape(shapeName, shape),
      shapeName,
      modelShape: { ...shape, tiedEmbeddings: config.tie_word_embeddings },
      backend: backend.backend,
      ...(backend.wasm ? { wasmThreads: backend.wasm.threads } : {}),
      weights,
      float32SameRunTokensPerS: float32Runs.length ? Number(fastest(float32Runs).tokensPerS.toFixed(1)) : null,
      decoding: values.sample ? "sample (temperature 1, top-p 0.9)" : "greedy",
      newTokens,
      promptTokens,
      tokensPerS: Number(best.tokensPerS.toFixed(1)),
      cpuMsPerToken: Number(best.cpuMsPerToken.toFixed(2)),
      llama2cAnchorTokensPerS: LLAMA2C_TOKENS_PER_S,
      // The anchor was measured on the stories15M shape with a BOS prompt: no ratio for other work.
      ratioToLlama2cAnchor:
        isStories15m && promptTokens === 1 ? Number((best.tokensPerS / LLAMA2C_TOKENS_PER_S).toFixed(2)) : null,
      llama2cSameRun: llama2c,
      ratioToLlama2cSameRun: sameRun === null ? null : Number((best.tokensPerS / sameRun).toFixed(2)),
      llamaCppSameRun: values["llama-cpp"] ? llamaCpp : { skipped: "no --llama-cpp" },
      // Our float32 model (this run's, or the float32 twin timed beside packed weights) against llama.cpp's f32.
      ratioToLlamaCppF32: ratioTo(oursFloat32, llamaCppF32),
      // Our int8 (Q8_0 weights, 8-bit activations) against llama.cpp's q8_0: only with --weights int8.
      ratioToLlamaCppQ8_0: weights === "int8" ? ratioTo(best.tokensPerS, llamaCppQ8) : null,
      oursQ8_0:
        weights === "int8"
          ? `${best.tokensPerS.toFixed(1)} tokens/s`
          : "run with --weights int8 to time our 8-bit decode against llama.cpp's q8_0",
      tensorsLeaked: tf.memory().numTensors - tensorsBefore,
      gpuDispatchesPerToken: best.dispatches?.perToken ?? null,
      gpuDispatchesFirstToken: best.dispatches?.firstToken ?? null,
      gpuPeakBytes: best.gpuPeakBytes,
      transformersSameRun: transformers,
      // Our tokens/s over transformers' generate() (same shape, prompt length and new tokens; not the same weights).
      ratioToTransformers:
        "tokensPerS" in transformers ? Number((best.tokensPerS / transformers.tokensPerS).toFixed(3)) : null,
    };
    if (values.json) ctx.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      ctx.stdout.write(
        `generate, ${report.shape}, ${report.backend}${backend.wasm ? ` (${backend.wasm.threads} thread${backend.wasm.threads > 1 ? "s" : ""})` : ""}, batch 1, ${promptTokens === 1 ? "" : `${promptTokens} prompt tokens, `}${newTokens} new tokens, ${report.decoding}:\n` +
          `  ${report.tokensPerS} tokens/s (${report.cpuMsPerToken} ms CPU per token)${weights === "float32" ? "" : ` with ${weights} weights`}\n` +
          (report.float32SameRunTokensPerS === null
            ? ""
            : `  ${(report.tokensPerS / report.float32SameRunTokensPerS).toFixed(2)}× the float32 model in this run (${report.float32SameRunTokensPerS} tokens/s)\n`) +
          (sameRun === null
            ? `  llama2.c in this run: not run (${"skipped" in llama2c ? llama2c.skipped : ""})\n`
            : `  ${report.ratioToLlama2cSameRun}× llama2.c measured in this run (${sameRun.toFixed(1)} tokens/s, ${threads} threads, same weights)\n`) +
          (llamaCpp.length === 0
            ? ""
            : llamaCpp
                .map((r) =>
                  "tokensPerS" in r
                    ? r.type === "f32"
                      ? `  ${report.ratioToLlamaCppF32}× llama.cpp f32 measured in this run (${r.tokensPerS.toFixed(1)} tokens/s, ${r.cpuMsPerToken.toFixed(2)} ms CPU per token, node-llama-cpp CPU, ${llamaCppThreads(r)}, same weights)\n`
                      : report.ratioToLlamaCppQ8_0 !== null
                        ? `  ${report.ratioToLlamaCppQ8_0}× llama.cpp ${r.type} measured in this run (${r.tokensPerS.toFixed(1)} tokens/s, ${r.cpuMsPerToken.toFixed(2)} ms CPU per token, ${llamaCppThreads(r)}; ours int8 ${report.oursQ8_0})\n`
                        : `  llama.cpp ${r.type}: ${r.tokensPerS.toFixed(1)} tokens/s (${r.cpuMsPerToken.toFixed(2)} ms CPU per token) in this run; ours at 8 bits: ${report.oursQ8_0}\n`
                    : `  llama.cpp: not run (${r.skipped})\n`,
                )
                .join("")) +
          (withTransformers ? transformersLine(transformers, report.ratioToTransformers) : "") +
          (report.ratioToLlama2cAnchor === null
            ? ""
            : `  ${report.ratioToLlama2cAnchor}× llama2.c's anchor (${LLAMA2C_TOKENS_PER_S} tokens/s, 2 threads, from shared/docs/anchors.md)\n`) +
          `  ${gpuDispatchLine({ perUnit: report.gpuDispatchesPerToken, unit: "generated token", backend: backend.backend })}` +
          `${report.gpuDispatchesFirstToken === null ? "" : ` (the first, with the prompt: ${report.gpuDispatchesFirstToken})`}\n` +
          (report.gpuPeakBytes === null
            ? ""
            : `  peak GPU memory: ${(report.gpuPeakBytes / 2 ** 20).toFixed(1)} MiB (every webgpu buffer)\n`),
      );
    }
    return 0;
  } finally {
    model.dispose();
  }
}
