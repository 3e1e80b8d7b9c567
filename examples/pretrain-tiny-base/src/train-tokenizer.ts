import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@llamats/core";
import {
  sentencePieceToTokenizerJson,
  serializeModelProto,
  SentencePieceTokenizer,
  tokenizerConfigJsonFor,
  tokenizerJsonToString,
  trainBpe,
} from "@llamats/tokenizer";

const VOCAB_SIZE = 3000;

export interface TinyTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  vocabSize: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number | null;
}

/**
 * Trains a LLaMA-style SentencePiece BPE tokenizer with @llamats/tokenizer's trainBpe (byte fallback, split digits,
 * identity normalizer, dummy prefix) and writes tokenizer.model, tokenizer.json and tokenizer_config.json into `outDir`.
 */
export async function trainTinyTokenizer(options: {
  texts: string[];
  outDir: string;
  log: (line: string) => void;
}): Promise<TinyTokenizer> {
  const model = trainBpe(options.texts, {
    vocabSize: VOCAB_SIZE,
    byteFallback: true,
    splitDigits: true,
    characterCoverage: 0.9995,
    maxPieceLength: 16,
    addDummyPrefix: true,
    removeExtraWhitespaces: false,
  });
  await writeFileAtomic(join(options.outDir, "tokenizer.model"), serializeModelProto(model));
  await writeFileAtomic(
    join(options.outDir, "tokenizer.json"),
    tokenizerJsonToString(sentencePieceToTokenizerJson(model)),
  );
  const config = { ...tokenizerConfigJsonFor(model, { modelMaxLength: 256 }), legacy: true };
  await writeFileAtomic(join(options.outDir, "tokenizer_config.json"), `${JSON.stringify(config, null, 2)}\n`);
  const counts = { byte: 0, normal: 0, other: 0 };
  for (const p of model.pieces) counts[p.type === "byte" ? "byte" : p.type === "normal" ? "normal" : "other"]++;
  options.log(
    `tokenizer (trainBpe): ${model.pieces.length} pieces (${counts.normal} learned pieces and characters, ${counts.byte} bytes, ${counts.other} specials)`,
  );
  const tokenizer = SentencePieceTokenizer.fromModelProto(
    new Uint8Array(await readFile(join(options.outDir, "tokenizer.model"))),
    {
      config: {
        bosToken: "<s>",
        eosToken: "</s>",
        unkToken: "<unk>",
        addBosToken: true,
        addEosToken: false,
        addedTokens: [],
      },
    },
  );
  return {
    encode: (text, o) => tokenizer.encode(text, o),
    vocabSize: tokenizer.vocabSize,
    bosTokenId: 1,
    eosTokenId: 2,
    padTokenId: null,
  };
}
