import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, checkPushTarget, hubSettingsFromEnv, resolveRepoFile, writeFileAtomic } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { PeftModel } from "@llamats/peft-lora";
import { BACKEND_USAGE, parseBackendOption, cliWasmThreads } from "../backend-option.js";
import { pushFolder } from "../hub-push.js";
import { pathExists } from "../path-exists.js";
import type { Command, CommandContext } from "../command.js";
import { startBackend, warnTo } from "../start-backend.js";
import { parseWeightsOption } from "../weights-option.js";

const USAGE = `llamats merge <base> <adapter> --out <dir> [--backend <name>] [--revision <rev>] [--adapter-revision <rev>] [--offline]
              [--push-to-hub <user/name> [--private]]

Merge a PEFT LoRA adapter into its base model and save a plain model repo (config.json +
model.safetensors, plus the base's tokenizer and generation files) that transformers and llamats load
without PEFT. <base> and <adapter> are local folders or Hub repo ids.

Options:
  --out <dir>               where to write the merged model (required)
${BACKEND_USAGE}
  --revision <rev>          branch, tag or commit of the base repo (default main)
  --adapter-revision <rev>  branch, tag or commit of the adapter repo (default main)
  --offline                 use only the local cache (also HF_HUB_OFFLINE=1)
  --push-to-hub <user/name> then upload the merged model with a model card (as \`llamats push\`)
  --private                 create that repo private
  --weights <nf4|int8|bf16> merge into the base as it was trained quantized (QLoRA: --quantize nf4): the
                            packed projections are dequantized and the merged model written float32

Example:
  llamats merge huggyllama/llama-7b tloen/alpaca-lora-7b --out ./alpaca-7b-merged`;

// Files beside the weights that make the merged folder a complete model repo.
const COMPANION_FILES = [
  "generation_config.json",
  "tokenizer.json",
  "tokenizer.model",
  "tokenizer_config.json",
  "special_tokens_map.json",
];

export const command: Command = {
  name: "merge",
  summary: "Merge a LoRA adapter into its base model and save a plain model",
  usage: USAGE,
  async run(args: string[], ctx: CommandContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: "string" },
        backend: { type: "string" },
        revision: { type: "string" },
        "adapter-revision": { type: "string" },
        offline: { type: "boolean", default: false },
        "push-to-hub": { type: "string" },
        private: { type: "boolean" },
        weights: { type: "string" },
      },
    });
    const [baseRef, adapterRef, ...extra] = positionals;
    if (!baseRef || !adapterRef || extra.length > 0 || !values.out) {
      ctx.stderr.write(
        "llamats merge: give a base model, an adapter and --out, e.g. `llamats merge ./llama ./my-adapter --out ./merged`.\n",
      );
      return 2;
    }
    const weights = parseWeightsOption(values.weights, "--weights") ?? "float32";
    const out = resolve(ctx.cwd, values.out);
    const settings = hubSettingsFromEnv(ctx.env);
    const offline = values.offline || settings.offline;
    if (values["push-to-hub"]) checkPushTarget({ repo: values["push-to-hub"], accessToken: settings.accessToken });
    else if (values.private)
      throw new ConfigError("--private goes with --push-to-hub <user/name>.", { key: "private" });
    const hub = {
      cacheDir: settings.cacheDir,
      hubUrl: settings.hubUrl,
      accessToken: settings.accessToken ?? "",
      offline,
      signal: ctx.signal,
    };
    const backend = await startBackend({
      backend: parseBackendOption(values.backend),
      wasmThreads: cliWasmThreads(ctx.env),
      warn: warnTo(ctx.stderr),
    });
    ctx.stderr.write(`backend: ${backend.backend}\n`);

    const base = await LlamaForCausalLM.fromPretrained(baseRef, {
      ...(values.revision ? { revision: values.revision } : {}),
      offline,
      signal: ctx.signal,
      weights,
    });
    const peft = await PeftModel.fromPretrained(base, adapterRef, {
      ...hub,
      ...(values["adapter-revision"] ? { revision: values["adapter-revision"] } : {}),
      logger: { warn: (message) => ctx.stderr.write(`warning: ${message}\n`) },
    });
    const { r, lora_alpha: alpha, use_rslora: rslora } = peft.config;
    const modules = peft.targetModules().length;
    const merged = peft.mergeAndUnload();
    const dequantized = peft.dequantizedModules.length;
    if (dequantized)
      ctx.stderr.write(
        `note: ${dequantized} ${weights} base projections were dequantized to float32 to merge (as PEFT does); the merged model is float32.\n`,
      );
    try {
      await merged.savePretrained(out);
    } finally {
      merged.dispose();
    }
    const copied: string[] = [];
    for (const file of COMPANION_FILES) {
      const path = await resolveRepoFile({
        repo: baseRef,
        file,
        ...hub,
        ...(values.revision ? { revision: values.revision } : {}),
      }).catch(() => null);
      if (path === null) continue;
      await writeFileAtomic(join(out, file), await readFile(path));
      copied.push(file);
    }
    ctx.stderr.write(
      `Merged ${adapterRef} (r=${r}, alpha=${alpha}${rslora ? ", rsLoRA" : ""}, ${modules} modules) into ${baseRef}; wrote config.json, model.safetensors${copied.length ? `, ${copied.join(", ")}` : ""}.\n`,
    );
    ctx.stdout.write(`${out}\n`);
    if (values["push-to-hub"]) {
      const localAdapter = await pathExists(resolve(ctx.cwd, adapterRef));
      const pushed = await pushFolder({
        dir: out,
        repo: values["push-to-hub"],
        ...(values.private ? { private: true } : {}),
        kind: "merged",
        baseModel: baseRef,
        adapter: adapterRef,
        // A local adapter folder from finetune holds the run's record and losses for the card.
        ...(localAdapter ? { trainingDir: resolve(ctx.cwd, adapterRef) } : {}),
        ctx,
      });
      ctx.stdout.write(`pushed to ${pushed.repoUrl}\n`);
    }
    return 0;
  },
};
