import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@llamats/core';
import { defaultNormalizerSpec, defaultTrainerSpec, serializeModelProto, SentencePieceTokenizer, type SentencePiece } from '@llamats/tokenizer';
import { countWords, learnBpe } from './bpe-merges.js';

export const VOCAB_SIZE = 3000;
const META = ['<unk>', '<s>', '</s>'];

export interface TinyTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  vocabSize: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number | null;
}

/**
 * Trains a LLaMA-style SentencePiece BPE tokenizer (byte fallback, split digits, identity normalizer, dummy prefix)
 * and writes tokenizer.model and tokenizer_config.json into `outDir` (tokenizer.json: see the README).
 */
export async function trainTinyTokenizer(options: { texts: string[]; outDir: string; log: (line: string) => void }): Promise<TinyTokenizer> {
  const words = countWords(options.texts);
  const bytePieces: SentencePiece[] = Array.from({ length: 256 }, (_, i) => ({ piece: `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`, score: 0, type: 'byte' }));
  const mergeBudget = VOCAB_SIZE - META.length - bytePieces.length;
  // Characters take their own ids at the end; learn merges until the vocabulary is full.
  const probe = learnBpe(words, 0);
  const { merges, characters } = learnBpe(words, mergeBudget - probe.characters.length);
  const pieces: SentencePiece[] = [
    { piece: META[0] as string, score: 0, type: 'unknown' },
    { piece: META[1] as string, score: 0, type: 'control' },
    { piece: META[2] as string, score: 0, type: 'control' },
    ...bytePieces,
    ...merges.map((piece, i) => ({ piece, score: -i, type: 'normal' as const })),
    ...characters.filter((c) => !merges.includes(c)).map((piece, i) => ({ piece, score: -(merges.length + i), type: 'normal' as const })),
  ];
  const trainerSpec = { ...defaultTrainerSpec(), modelType: 'bpe' as const, vocabSize: pieces.length, byteFallback: true, splitDigits: true, characterCoverage: 0.9995, maxSentencepieceLength: 16 };
  const normalizerSpec = { ...defaultNormalizerSpec(), name: 'identity', removeExtraWhitespaces: false };
  const model = { pieces, trainerSpec, normalizerSpec, denormalizerSpec: undefined };
  await writeFileAtomic(join(options.outDir, 'tokenizer.model'), serializeModelProto(model));
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    pad_token: null,
    model_max_length: 256,
    tokenizer_class: 'LlamaTokenizer',
    clean_up_tokenization_spaces: false,
    legacy: true,
  };
  await writeFileAtomic(join(options.outDir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  options.log(`tokenizer: ${pieces.length} pieces (${merges.length} merges, ${characters.length} characters, 256 bytes) from ${words.size} distinct words`);
  const tokenizer = SentencePieceTokenizer.fromModelProto(new Uint8Array(await readFile(join(options.outDir, 'tokenizer.model'))), {
    config: { bosToken: '<s>', eosToken: '</s>', unkToken: '<unk>', addBosToken: true, addEosToken: false, addedTokens: [] },
  });
  return {
    encode: (text, o) => tokenizer.encode(text, o),
    vocabSize: tokenizer.vocabSize,
    bosTokenId: 1,
    eosTokenId: 2,
    padTokenId: null,
  };
}
