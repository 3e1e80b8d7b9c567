// Writes a SentencePiece BPE model as the three files a LLaMA model directory carries.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@llamats/core";
import { serializeModelProto, type SentencePieceModelProto } from "./sentencepiece/model-proto.js";
import { sentencePieceToTokenizerJson, tokenizerConfigJsonFor } from "./sentencepiece/to-tokenizer-json.js";
import { prettyJson } from "./pretty-json.js";
import { tokenizerJsonToString } from "./tokenizer-json-string.js";

export interface WriteTokenizerFilesOptions {
  /** Folder to write into (created if missing). */
  dir: string;
  model: SentencePieceModelProto;
  /** Jinja chat template stored in tokenizer_config.json. */
  chatTemplate?: string;
  addBosToken?: boolean;
  addEosToken?: boolean;
  modelMaxLength?: number;
}

export interface WrittenTokenizerFiles {
  tokenizerModel: string;
  tokenizerJson: string;
  tokenizerConfig: string;
}

/** Writes tokenizer.model, tokenizer.json and tokenizer_config.json (each atomically). */
export async function writeTokenizerFiles(options: WriteTokenizerFilesOptions): Promise<WrittenTokenizerFiles> {
  const { dir, model } = options;
  await mkdir(dir, { recursive: true });
  const files: WrittenTokenizerFiles = {
    tokenizerModel: join(dir, "tokenizer.model"),
    tokenizerJson: join(dir, "tokenizer.json"),
    tokenizerConfig: join(dir, "tokenizer_config.json"),
  };
  const flags = { addBosToken: options.addBosToken, addEosToken: options.addEosToken };
  await writeFileAtomic(files.tokenizerModel, serializeModelProto(model));
  await writeFileAtomic(files.tokenizerJson, tokenizerJsonToString(sentencePieceToTokenizerJson(model, flags)));
  const config = tokenizerConfigJsonFor(model, {
    ...flags,
    chatTemplate: options.chatTemplate,
    modelMaxLength: options.modelMaxLength,
  });
  await writeFileAtomic(files.tokenizerConfig, prettyJson(config) + "\n");
  return files;
}
