// loadTokenizer: a tokenizer.json or tokenizer.model from a file, a model folder or a Hub repo.
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ConfigError, FormatError, isLocalPath, resolveRepoFile } from "@llamats/core";
import { HfTokenizer } from "./hf/hf-tokenizer.js";
import { SentencePieceTokenizer } from "./sentencepiece/sentencepiece-tokenizer.js";
import type { Tokenizer } from "./tokenizer.js";
import { parseTokenizerConfig, type TokenizerConfig } from "./tokenizer-config.js";

export type TokenizerFileName = "tokenizer.json" | "tokenizer.model";

export interface LoadTokenizerOptions {
  /** With both files present, which to use (default tokenizer.json, as transformers does). */
  prefer?: TokenizerFileName;
  /** Hub branch, tag or commit. */
  revision?: string;
  /** Use only the local Hub cache. */
  offline?: boolean;
  cacheDir?: string;
  accessToken?: string;
  hubUrl?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${path} is not valid JSON: ${(error as Error).message}`, { file: path, cause: error });
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Builds a tokenizer from files already on disk; `config` and `chatTemplateFile` are optional. */
export async function tokenizerFromFiles(options: {
  tokenizerFile: string;
  configFile?: string | null;
  chatTemplateFile?: string | null;
  source?: string;
}): Promise<Tokenizer> {
  let config: TokenizerConfig | undefined;
  if (options.configFile) config = parseTokenizerConfig(await readJson(options.configFile), options.configFile);
  if (options.chatTemplateFile && config?.chatTemplate === undefined) {
    config = { ...(config ?? { addedTokens: [] }), chatTemplate: await readFile(options.chatTemplateFile, "utf8") };
  }
  const file = options.tokenizerFile;
  if (file.endsWith(".json")) {
    return HfTokenizer.fromTokenizerJson(await readJson(file), { config, source: file });
  }
  const bytes = new Uint8Array(await readFile(file));
  return SentencePieceTokenizer.fromModelProto(bytes, { config, source: file });
}

/**
 * Loads a tokenizer from a tokenizer.json / tokenizer.model file, a folder holding one, or a Hub repo id.
 * tokenizer_config.json (and chat_template.jinja) next to it supply special tokens and the chat template.
 */
export async function loadTokenizer(pathOrDirOrRepoId: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const target = pathOrDirOrRepoId;
  if (isLocalPath(target) && (await isFile(target))) {
    const dir = dirname(target);
    const configFile = join(dir, "tokenizer_config.json");
    const chatTemplateFile = join(dir, "chat_template.jinja");
    const name = basename(target);
    if (!name.endsWith(".json") && !name.endsWith(".model")) {
      throw new ConfigError(
        `${target}: expected a tokenizer.json or a SentencePiece .model file (or a folder or repo holding one)`,
        { key: "path" },
      );
    }
    return tokenizerFromFiles({
      tokenizerFile: target,
      configFile: name === "tokenizer_config.json" ? null : (await isFile(configFile)) ? configFile : null,
      chatTemplateFile: (await isFile(chatTemplateFile)) ? chatTemplateFile : null,
    });
  }
  const resolve = (file: string): Promise<string | null> =>
    resolveRepoFile({
      repo: target,
      file,
      revision: options.revision,
      offline: options.offline,
      cacheDir: options.cacheDir,
      accessToken: options.accessToken,
      hubUrl: options.hubUrl,
      fetch: options.fetch,
      signal: options.signal,
    });
  const order: TokenizerFileName[] =
    options.prefer === "tokenizer.model"
      ? ["tokenizer.model", "tokenizer.json"]
      : ["tokenizer.json", "tokenizer.model"];
  let tokenizerFile: string | null = null;
  for (const name of order) {
    tokenizerFile = await resolve(name);
    if (tokenizerFile) break;
  }
  if (!tokenizerFile) {
    throw new ConfigError(
      `${target} has neither tokenizer.json nor tokenizer.model; point at a model folder or repo that has a tokenizer`,
      {
        key: "tokenizer",
      },
    );
  }
  return tokenizerFromFiles({
    tokenizerFile,
    configFile: await resolve("tokenizer_config.json"),
    chatTemplateFile: await resolve("chat_template.jinja"),
    source: target,
  });
}
