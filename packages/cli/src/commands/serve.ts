import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isLocalPath, ValidationError, type FrozenWeightFormat } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { PeftModel } from "@llamats/peft-lora";
import {
  createLlamaEngine,
  createServer,
  type GenerationEngine,
  type PromptFormat,
  type ServerLogger,
} from "@llamats/server";
import { loadTokenizer } from "@llamats/tokenizer";
import { BACKEND_USAGE, parseBackendOption, cliWasmThreads } from "../backend-option.js";
import type { Command, CommandContext } from "../command.js";
import { startBackend } from "../start-backend.js";
import { WEIGHTS_USAGE, parseWeightsOption } from "../weights-option.js";

const usage = `llamats serve --model <repo|dir> [options]

Serves a model over an OpenAI-compatible HTTP API, with a web chat page at /.

  POST /v1/chat/completions   chat, streaming (SSE) or not
  POST /v1/completions        raw prompts (also a list of prompts)
  GET  /v1/models             the base model and each adapter, as model ids
  GET  /health                200 while serving, 503 while shutting down (no key needed)

Options:
  --model <repo|dir>          model repo id on the Hub or a local folder (required)
  --adapter <name=path>       a LoRA adapter (PEFT folder or repo id), served as model id <name>; repeatable
  --prompt-format <id=fmt>    how chat is rendered for a model id: chat-template, alpaca or plain;
                              default: the tokenizer's chat template (else plain) for the base, alpaca for adapters
  --host <host>               address to listen on (default 127.0.0.1: this machine only)
  --port <port>               port (default 8000)
  --api-key <key>             require 'Authorization: Bearer <key>' on every endpoint but /health
                              (or set LLAMATS_API_KEY, which keeps the key out of the process list)
${BACKEND_USAGE}
  --max-concurrency <n>       generations running at once, interleaved token by token (default 4)
  --queue-size <n>            requests that may wait for a slot; the rest get 429 (default 32)
  --max-body-bytes <n>        largest request body (default 1048576)
  --context-length <n>        override the context window (default: the model's max_position_embeddings)
  --shutdown-grace <seconds>  on Ctrl-C / SIGTERM, let running generations finish this long (default 10)
  --revision <rev>            Hub revision of the model
  --offline                   use only the local Hub cache
${WEIGHTS_USAGE}

Example:
  llamats serve --model ./llama1-tiny --adapter alpaca=./my-adapter --port 8000
  curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\
    -d '{"model":"alpaca","messages":[{"role":"user","content":"Hi"}],"stream":true}'`;

const PROMPT_FORMATS: readonly PromptFormat[] = ["chat-template", "alpaca", "plain"];
const ADAPTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface LoadServeEngineOptions {
  model: string;
  adapters: ReadonlyArray<{ name: string; path: string }>;
  promptFormats: ReadonlyMap<string, PromptFormat>;
  contextLength?: number;
  revision?: string;
  offline?: boolean;
  /** How the projection weights are held (default float32); adapters run unmerged on top. */
  weights?: FrozenWeightFormat;
  cwd: string;
  log: (line: string) => void;
}

/** Loads the model, tokenizer and adapters, and wraps them in a generation engine. */
export async function loadServeEngine(options: LoadServeEngineOptions): Promise<GenerationEngine> {
  const location = isLocalPath(options.model) ? resolve(options.cwd, options.model) : options.model;
  const hub = {
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.offline ? { offline: true } : {}),
  };
  options.log(`loading ${location}`);
  const model = await LlamaForCausalLM.fromPretrained(location, { ...hub, weights: options.weights ?? "float32" });
  const tokenizer = await loadTokenizer(location, hub);
  const modelId = isLocalPath(options.model) ? basename(location) : options.model;
  let peft: PeftModel<LlamaForCausalLM> | undefined;
  for (const adapter of options.adapters) {
    const path = isLocalPath(adapter.path) ? resolve(options.cwd, adapter.path) : adapter.path;
    options.log(`loading adapter '${adapter.name}' from ${path}`);
    if (!peft) peft = await PeftModel.fromPretrained(model, path, { adapterName: adapter.name });
    else await peft.loadAdapter(path, adapter.name);
  }
  peft?.eval();
  return createLlamaEngine({
    model,
    tokenizer,
    modelId,
    promptFormat: options.promptFormats.get(modelId),
    contextLength: options.contextLength,
    adapters: peft
      ? {
          switcher: peft,
          entries: options.adapters.map(({ name }) => ({ name, promptFormat: options.promptFormats.get(name) })),
        }
      : undefined,
  });
}

/** `name=path` → {name, path}; the name must be a plain id, since clients send it as a model id. */
export function parseAdapterArg(value: string): { name: string; path: string } {
  const equals = value.indexOf("=");
  const name = equals > 0 ? value.slice(0, equals) : "";
  const path = equals > 0 ? value.slice(equals + 1) : "";
  if (!ADAPTER_NAME.test(name) || path.length === 0) {
    throw new ValidationError(
      `--adapter "${value}" must look like name=path, with a name of letters, digits, '.', '_' or '-' (at most 64).`,
      { location: "--adapter" },
    );
  }
  return { name, path };
}

export function parsePromptFormats(values: readonly string[]): Map<string, PromptFormat> {
  const formats = new Map<string, PromptFormat>();
  for (const value of values) {
    const equals = value.lastIndexOf("=");
    const format = value.slice(equals + 1) as PromptFormat;
    if (equals <= 0 || !PROMPT_FORMATS.includes(format)) {
      throw new ValidationError(`--prompt-format "${value}" must look like <model-id>=${PROMPT_FORMATS.join("|")}.`, {
        location: "--prompt-format",
      });
    }
    formats.set(value.slice(0, equals), format);
  }
  return formats;
}

export function positiveInteger(value: string | undefined, option: string, fallback: number, minimum = 1): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < minimum) {
    throw new ValidationError(`${option} must be an integer >= ${minimum}, got "${value}".`, { location: option });
  }
  return parsed;
}

export function stderrLogger(ctx: CommandContext): ServerLogger {
  const write = (level: string) => (message: string) => void ctx.stderr.write(`[serve] ${level}${message}\n`);
  return { info: write(""), warn: write("warning: "), error: write("error: ") };
}

export const command: Command = {
  name: "serve",
  summary: "Serve a model over an OpenAI-compatible HTTP API with a web chat page",
  usage,
  async run(args, ctx) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        model: { type: "string" },
        adapter: { type: "string", multiple: true },
        "prompt-format": { type: "string", multiple: true },
        host: { type: "string" },
        port: { type: "string" },
        "api-key": { type: "string" },
        backend: { type: "string" },
        "max-concurrency": { type: "string" },
        "queue-size": { type: "string" },
        "max-body-bytes": { type: "string" },
        "context-length": { type: "string" },
        "shutdown-grace": { type: "string" },
        revision: { type: "string" },
        offline: { type: "boolean" },
        weights: { type: "string" },
      },
    });
    if (!values.model)
      throw new ValidationError("--model is required (a Hub repo id or a local folder).", { location: "--model" });
    const adapters = (values.adapter ?? []).map(parseAdapterArg);
    const duplicate = adapters.find(
      (adapter, index) => adapters.findIndex((other) => other.name === adapter.name) !== index,
    );
    if (duplicate) throw new ValidationError(`Two adapters are named '${duplicate.name}'.`, { location: "--adapter" });
    const promptFormats = parsePromptFormats(values["prompt-format"] ?? []);
    const port = positiveInteger(values.port, "--port", 8000, 0);
    if (port > 65535) throw new ValidationError(`--port must be at most 65535, got ${port}.`, { location: "--port" });
    const host = values.host ?? "127.0.0.1";
    const apiKey = values["api-key"] ?? (ctx.env.LLAMATS_API_KEY || undefined);
    const graceSeconds = positiveInteger(values["shutdown-grace"], "--shutdown-grace", 10, 0);
    const weights = parseWeightsOption(values.weights, "--weights") ?? "float32";
    const logger = stderrLogger(ctx);

    const backend = await startBackend({
      backend: parseBackendOption(values.backend),
      wasmThreads: cliWasmThreads(ctx.env),
      log: (line) => logger.info(line),
      warn: (line) => logger.warn(line),
    });
    logger.info(`backend: ${backend.backend} (${backend.reason})`);
    const engine = await loadServeEngine({
      model: values.model,
      adapters,
      promptFormats,
      contextLength: values["context-length"]
        ? positiveInteger(values["context-length"], "--context-length", 0)
        : undefined,
      revision: values.revision,
      offline: values.offline,
      weights,
      cwd: ctx.cwd,
      log: (line) => logger.info(line),
    });
    const server = await createServer({
      engine,
      apiKey,
      maxConcurrency: positiveInteger(values["max-concurrency"], "--max-concurrency", 4),
      queueSize: positiveInteger(values["queue-size"], "--queue-size", 32, 0),
      maxBodyBytes: positiveInteger(values["max-body-bytes"], "--max-body-bytes", 1024 * 1024),
      logger,
    });
    if (ctx.signal.aborted) return 130;
    const url = await server.listen({ host, port });
    const loopback = host === "127.0.0.1" || host === "::1" || host === "localhost";
    if (!loopback && !apiKey)
      logger.warn(`listening on ${host} without --api-key: anyone who can reach this address can use the model.`);
    ctx.stdout.write(
      `Serving ${engine
        .listModels()
        .map((card) => card.id)
        .join(", ")} at ${url}\n  chat page: ${url}/\n  API:       ${url}/v1\nPress Ctrl-C to stop.\n`,
    );
    await new Promise<void>((resolveStop) => {
      if (ctx.signal.aborted) resolveStop();
      else ctx.signal.addEventListener("abort", () => resolveStop(), { once: true });
    });
    logger.info(`shutting down: finishing running generations (up to ${graceSeconds} s)`);
    const { finished, cancelled } = await server.close({ graceMs: graceSeconds * 1000 });
    logger.info(`stopped (${finished} generations finished, ${cancelled} cancelled)`);
    return 0;
  },
};
