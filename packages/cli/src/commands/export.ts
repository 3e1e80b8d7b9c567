import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, isLocalPath, writeFileAtomic } from "@llamats/core";
import { getTemplate, type PromptTemplate } from "@llamats/instruct-data";
import { exportGguf, GGUF_FILE_TYPES, LlamaForCausalLM, type GgufFileType } from "@llamats/llama-model";
import { loadTokenizer } from "@llamats/tokenizer";
import { BACKEND_USAGE, parseBackendOption, cliWasmThreads } from "../backend-option.js";
import type { Command, CommandContext } from "../command.js";
import { ollamaModelfile } from "../export/ollama-modelfile.js";
import { readTrainedTemplate, TRAINED_TEMPLATE_FILE } from "../export/trained-template.js";
import { startBackend, warnTo } from "../start-backend.js";

const USAGE = `llamats export gguf <model> [--adapter <dir|repo>] --out <file.gguf> [--type f32|f16|q8_0] [options]

Write a model (with a LoRA adapter merged in) as a llama.cpp GGUF file, which llama.cpp, Ollama, LM Studio and
node-llama-cpp load: llama architecture, GGUF v3, the tokenizer (SentencePiece tokenizer.model, or a byte-level BPE
tokenizer.json), special tokens and chat template. Tensors are written one at a time; the file appears only when complete.

Options:
  --out <file.gguf>            the file to write (required)
  --type <f32|f16|q8_0>        weight type of the matrices (default f32); norms stay f32, as llama.cpp's converter does
  --adapter <dir|repo>         merge this PEFT LoRA adapter into the weights first
  --name <text>                general.name in the file (default: the model's folder or repo name)
  --ollama                     also write an Ollama Modelfile beside the .gguf (<out>.Modelfile)
  --template <name|file>       the prompt template the model was fine-tuned with, for --ollama (default: the one
                               \`llamats finetune\` recorded in the adapter's prompt_template.json, else alpaca)
  --revision <rev>             Hub branch, tag or commit (default main)
  --offline                    use only the local Hub cache
${BACKEND_USAGE}

Example:
  llamats export gguf ./llama --adapter ./lora-alpaca --out alpaca.gguf --type q8_0 --ollama
  ollama create alpaca -f alpaca.gguf.Modelfile`;

/** --template, else what the adapter's fine-tune recorded (prompt_template.json), else finetune's default, alpaca. */
async function ollamaTemplate(
  given: string | undefined,
  adapter: string | undefined,
  ctx: CommandContext,
): Promise<PromptTemplate> {
  if (given !== undefined) return getTemplate(given);
  const recorded = adapter && isLocalPath(adapter) ? await readTrainedTemplate(resolve(ctx.cwd, adapter)) : null;
  if (recorded) return recorded;
  ctx.stderr.write(
    `note: ${adapter ?? "the model"} records no ${TRAINED_TEMPLATE_FILE}; the Modelfile uses the alpaca template (give --template to choose)\n`,
  );
  return getTemplate("alpaca");
}

function fileType(value: string | undefined): GgufFileType {
  const type = value ?? "f32";
  if (!(type in GGUF_FILE_TYPES))
    throw new ConfigError(`--type must be one of ${Object.keys(GGUF_FILE_TYPES).join(", ")}; got "${type}".`, {
      key: "type",
    });
  return type as GgufFileType;
}

export const command: Command = {
  name: "export",
  summary: "Export a model (with a LoRA adapter merged) as a llama.cpp GGUF file",
  usage: USAGE,
  handlesSubcommandHelp: true,
  async run(args: string[], ctx): Promise<number> {
    const [format, ...rest] = args;
    if (format === "--help" || format === "-h" || rest.includes("--help") || rest.includes("-h")) {
      ctx.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (format !== "gguf") {
      ctx.stderr.write(
        `llamats export: the format to write comes first; the only one is gguf (got ${format ?? "nothing"}).\n`,
      );
      return 2;
    }
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: "string" },
        type: { type: "string" },
        adapter: { type: "string" },
        name: { type: "string" },
        ollama: { type: "boolean", default: false },
        template: { type: "string" },
        revision: { type: "string" },
        offline: { type: "boolean", default: false },
        backend: { type: "string" },
      },
    });
    const [model, ...extra] = positionals;
    if (!model || extra.length > 0 || !values.out) {
      ctx.stderr.write(
        "llamats export gguf: give one model and --out, e.g. `llamats export gguf ./llama --out llama.gguf`.\n",
      );
      return 2;
    }
    // Every option is checked before the (slow) model load.
    const type = fileType(values.type);
    if (values.template && !values.ollama)
      throw new ConfigError("--template is for the Ollama Modelfile: give --ollama with it.", { key: "template" });
    const template = values.ollama ? await ollamaTemplate(values.template, values.adapter, ctx) : null;
    const out = resolve(ctx.cwd, values.out);
    const hub = {
      ...(values.revision ? { revision: values.revision } : {}),
      offline: values.offline || ctx.env.HF_HUB_OFFLINE === "1",
    };

    const backend = await startBackend({
      backend: parseBackendOption(values.backend),
      wasmThreads: cliWasmThreads(ctx.env),
      warn: warnTo(ctx.stderr),
    });
    ctx.stderr.write(`backend: ${backend.backend}\n`);
    let llama = await LlamaForCausalLM.fromPretrained(model, { ...hub, signal: ctx.signal });
    try {
      if (values.adapter) {
        const { PeftModel } = await import("@llamats/peft-lora");
        llama = (await PeftModel.fromPretrained(llama, values.adapter, hub)).mergeAndUnload();
      }
      // llama.cpp's converter reads a SentencePiece model's tokenizer.model; byte-level models have only tokenizer.json.
      const tokenizer = await loadTokenizer(model, { ...hub, prefer: "tokenizer.model", signal: ctx.signal });
      await exportGguf(llama, {
        path: out,
        tokenizer,
        type,
        name: values.name ?? basename(model.replace(/[\\/]+$/, "")),
        signal: ctx.signal,
        onProgress: ({ done, total }) => ctx.stderr.write(`\rwriting tensors ${done}/${total}`),
      });
      ctx.stderr.write("\n");
      if (template) {
        const eos = tokenizer.eosTokenId === null ? undefined : tokenizer.idToToken(tokenizer.eosTokenId);
        const modelfile = join(dirname(out), `${basename(out)}.Modelfile`);
        await writeFileAtomic(modelfile, ollamaModelfile({ ggufFile: basename(out), template, eosToken: eos }));
        ctx.stderr.write(`Ollama Modelfile: ${modelfile} (template "${template.name}")\n`);
      }
    } finally {
      llama.dispose();
    }
    ctx.stderr.write(`Wrote ${out} (GGUF v3, ${type}${values.adapter ? `, ${values.adapter} merged` : ""}).\n`);
    ctx.stdout.write(`${out}\n`);
    return 0;
  },
};
