import { parseArgs } from "node:util";
import { ConfigError, LlamatsError } from "@llamats/core";
import {
  LlamaForCausalLM,
  loadGenerationConfig,
  resolveModelFile,
  type GenerateOptions,
  type GenerationDefaults,
  type GenerationTokenizer,
} from "@llamats/llama-model";
import type { Command, CommandContext } from "../command.js";
import { BACKEND_USAGE, parseBackendOption, cliWasmThreads } from "../backend-option.js";
import { startBackend, warnTo } from "../start-backend.js";
import { WEIGHTS_USAGE, parseWeightsOption } from "../weights-option.js";

const USAGE = `llamats generate <model> --prompt "<text>" [options]

Generate text from a prompt with a LLaMA-family model (a local folder or a Hub repo id), streaming it to stdout.
Decoding is greedy unless a sampling option (--temperature > 0, --top-p, --top-k) is given.

Options:
  --prompt <text>              the prompt (encoded with the model's tokenizer, BOS added)
  --ids <1,2,3>                a prompt given as token ids instead (works without tokenizer files)
  --max-new-tokens <n>         tokens to generate at most (default 128)
  --temperature <t>            sample with this temperature (0 = greedy)
  --top-p <p>                  nucleus sampling: keep the smallest set of tokens reaching probability p
  --top-k <k>                  keep only the k most likely tokens
  --repetition-penalty <r>     HF repetition penalty (1 = off)
  --seed <n>                   seed for sampling (same seed, same text)
  --stop <text>                stop once this text is generated (repeatable)
  --adapter <dir|repo>         apply a PEFT LoRA adapter
  --revision <rev>             Hub branch, tag or commit (default main)
  --offline                    use only the local Hub cache
${WEIGHTS_USAGE}
${BACKEND_USAGE}`;

/** Options shared by generate and chat. */
export const MODEL_OPTIONS = {
  backend: { type: "string" },
  adapter: { type: "string" },
  revision: { type: "string" },
  offline: { type: "boolean", default: false },
  "max-new-tokens": { type: "string" },
  temperature: { type: "string" },
  "top-p": { type: "string" },
  "top-k": { type: "string" },
  "repetition-penalty": { type: "string" },
  seed: { type: "string" },
  stop: { type: "string", multiple: true },
  weights: { type: "string" },
} as const;

/** A tokenizer as @llamats/tokenizer's loadTokenizer returns it (the parts the CLI uses). */
export interface CliTokenizer extends GenerationTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  applyChatTemplate?(
    messages: { role: string; content: string }[],
    options?: { addGenerationPrompt?: boolean },
  ): string;
  readonly chatTemplate?: string | null;
}

/** A number option, checked; undefined when not given. */
export function numberOption(
  values: Record<string, unknown>,
  key: string,
  check: (n: number) => boolean,
  what: string,
): number | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n))
    throw new ConfigError(`--${key} must be ${what}; got ${JSON.stringify(raw)}.`, { key });
  return n;
}

/** Sampling options from the command line over the repo's generation_config.json defaults. */
export function samplingOptions(
  values: Record<string, unknown>,
  defaults: GenerationDefaults,
): Omit<GenerateOptions, "maxNewTokens"> & { maxNewTokens: number } {
  const temperature = numberOption(values, "temperature", (n) => n >= 0, "a number ≥ 0");
  const topP = numberOption(values, "top-p", (n) => n > 0 && n <= 1, "a number in (0, 1]");
  const topK = numberOption(values, "top-k", (n) => Number.isInteger(n) && n >= 0, "a whole number ≥ 0");
  const repetitionPenalty = numberOption(values, "repetition-penalty", (n) => n > 0, "a number > 0");
  const seed = numberOption(values, "seed", (n) => Number.isInteger(n) && n >= 0, "a whole number ≥ 0");
  const maxNewTokens =
    numberOption(values, "max-new-tokens", (n) => Number.isInteger(n) && n >= 0, "a whole number ≥ 0") ?? 128;
  const doSample = temperature !== undefined ? temperature > 0 : topP !== undefined || topK !== undefined;
  const options: Omit<GenerateOptions, "maxNewTokens"> & { maxNewTokens: number } = { maxNewTokens, doSample };
  if (doSample && temperature !== undefined) options.temperature = temperature;
  if (topP !== undefined) options.topP = topP;
  if (topK !== undefined) options.topK = topK;
  if (repetitionPenalty !== undefined) options.repetitionPenalty = repetitionPenalty;
  if (seed !== undefined) options.seed = seed;
  if (defaults.eosTokenId !== undefined) options.eosTokenId = defaults.eosTokenId;
  const stop = values.stop as string[] | undefined;
  if (stop?.length) options.stopStrings = stop;
  return options;
}

/** The model's tokenizer, or null when the repo has no tokenizer files (the model then works on ids only). */
export async function loadCliTokenizer(
  model: string,
  hub: { revision?: string; offline?: boolean },
): Promise<CliTokenizer | null> {
  const files = await Promise.all(
    ["tokenizer.json", "tokenizer.model"].map((file) => resolveModelFile(model, file, hub)),
  );
  if (files.every((f) => f === null)) return null;
  const { loadTokenizer } = (await import("@llamats/tokenizer")) as {
    loadTokenizer?: (path: string, options?: object) => Promise<CliTokenizer>;
  };
  if (!loadTokenizer)
    throw new LlamatsError("This build of @llamats/tokenizer cannot load tokenizers yet: give the prompt as --ids.");
  return loadTokenizer(model, hub);
}

/** Loads the model (and adapter) after starting the backend; progress goes to stderr. */
export async function loadCliModel(model: string, values: Record<string, unknown>, ctx: CommandContext) {
  const weights = parseWeightsOption(values.weights, "--weights") ?? "float32";
  await startBackend({
    backend: parseBackendOption(values.backend as string | undefined),
    wasmThreads: cliWasmThreads(ctx.env),
    warn: warnTo(ctx.stderr),
  });
  const hub = {
    ...(values.revision ? { revision: values.revision as string } : {}),
    offline: Boolean(values.offline) || ctx.env.HF_HUB_OFFLINE === "1",
  };
  const llama = await LlamaForCausalLM.fromPretrained(model, { ...hub, signal: ctx.signal, weights });
  try {
    if (values.adapter) {
      const { PeftModel } = await import("@llamats/peft-lora");
      // Merged into the weights (one adapter, inference only): plain layers take the fused wasm decode step.
      const peft = await PeftModel.fromPretrained(llama, values.adapter as string, hub);
      peft.mergeAndUnload();
      if (peft.dequantizedModules.length)
        ctx.stderr.write(
          `note: the adapter was merged into ${peft.dequantizedModules.length} ${weights} projections dequantized to float32 (as PEFT merges into a quantized base)\n`,
        );
    }
    const [tokenizer, defaults] = await Promise.all([loadCliTokenizer(model, hub), loadGenerationConfig(model, hub)]);
    return { llama, tokenizer, defaults };
  } catch (error) {
    llama.dispose();
    throw error;
  }
}

function parseIds(text: string, vocabSize: number): number[] {
  const ids = text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  if (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize)) {
    throw new ConfigError(`--ids must be a comma-separated list of token ids in [0, ${vocabSize}); got "${text}".`, {
      key: "ids",
    });
  }
  return ids;
}

export const command: Command = {
  name: "generate",
  summary: "Generate text from a prompt with a LLaMA-family model",
  usage: USAGE,
  async run(args: string[], ctx: CommandContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...MODEL_OPTIONS, prompt: { type: "string" }, ids: { type: "string" } },
    });
    const [model, ...extra] = positionals;
    if (!model || extra.length > 0 || (values.prompt === undefined) === (values.ids === undefined)) {
      ctx.stderr.write('llamats generate: give one model and either --prompt "<text>" or --ids 1,2,3.\n');
      return 2;
    }
    // Checks the option values before the (slow) model load.
    samplingOptions(values, {});
    const { llama, tokenizer, defaults } = await loadCliModel(model, values, ctx);
    try {
      let prompt: number[];
      if (values.ids !== undefined) prompt = parseIds(values.ids, llama.config.vocabSize);
      else if (tokenizer) prompt = tokenizer.encode(values.prompt!, { addSpecialTokens: true });
      else
        throw new ConfigError(
          `${model} has no tokenizer files (tokenizer.json or tokenizer.model): give the prompt as --ids.`,
          { key: "prompt" },
        );
      const generateOptions: GenerateOptions = { ...samplingOptions(values, defaults), signal: ctx.signal };
      if (tokenizer) generateOptions.tokenizer = tokenizer;
      if (values.stop?.length && !tokenizer)
        throw new ConfigError("--stop needs the model's tokenizer files.", { key: "stop" });
      const newIds: number[] = [];
      for await (const { tokenId, text } of llama.generateStream(prompt, generateOptions)) {
        if (tokenId >= 0) newIds.push(tokenId);
        if (tokenizer) ctx.stdout.write(text);
      }
      ctx.stdout.write(tokenizer ? "\n" : `${[...prompt, ...newIds].join(" ")}\n`);
      return ctx.signal.aborted ? 130 : 0;
    } finally {
      llama.dispose();
    }
  },
};
