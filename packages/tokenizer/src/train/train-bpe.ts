// BPE training that produces a SentencePiece BPE ModelProto (LLaMA's trainer settings by default):
// count words, keep the characters that cover the text, then merge the most frequent adjacent pair
// until the vocabulary is full. Pieces are scored by merge order, as SentencePiece's trainer does.
import { ValidationError } from "@llamats/core";
import { bytePieceName } from "../utf8.js";
import {
  defaultNormalizerSpec,
  defaultTrainerSpec,
  type SentencePiece,
  type SentencePieceModelProto,
} from "../sentencepiece/model-proto.js";
import { SentencePieceNormalizer } from "../sentencepiece/normalizer.js";
import { WordSplitter } from "./word-splitter.js";

export interface TrainBpeOptions {
  /** Total pieces, including <unk>, <s>, </s>, the 256 byte pieces and single characters. */
  vocabSize: number;
  /** Unknown characters become <0xNN> byte pieces (LLaMA: true). */
  byteFallback?: boolean;
  /** Every digit is its own piece (LLaMA: true). */
  splitDigits?: boolean;
  /** Share of character occurrences the kept characters must cover (LLaMA: 0.99995). */
  characterCoverage?: number;
  /** Longest piece, in characters (SentencePiece default 16). */
  maxPieceLength?: number;
  /** Pieces made only of ▁ may be learned (LLaMA: true). */
  allowWhitespaceOnlyPieces?: boolean;
  /** Prefix every sentence with ▁ (LLaMA: true). */
  addDummyPrefix?: boolean;
  /** Collapse and trim spaces before training and encoding (LLaMA: false). */
  removeExtraWhitespaces?: boolean;
  /** Pieces kept whole and never split, placed after the byte pieces. */
  userDefinedSymbols?: string[];
}

interface PairHeapEntry {
  count: number;
  key: number;
}

/** Max-heap of pair counts; stale entries are detected against the live counts when popped. */
class CountHeap {
  private items: PairHeapEntry[] = [];
  get size(): number {
    return this.items.length;
  }
  private better(a: PairHeapEntry, b: PairHeapEntry): boolean {
    return a.count > b.count || (a.count === b.count && a.key < b.key);
  }
  push(entry: PairHeapEntry): void {
    const items = this.items;
    let i = items.length;
    items.push(entry);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(entry, items[p]!)) break;
      items[i] = items[p]!;
      i = p;
    }
    items[i] = entry;
  }
  pop(): PairHeapEntry {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= items.length) break;
        if (c + 1 < items.length && this.better(items[c + 1]!, items[c]!)) c++;
        if (!this.better(items[c]!, last)) break;
        items[i] = items[c]!;
        i = c;
      }
      items[i] = last;
    }
    return top;
  }
}

const PAIR_BASE = 1 << 22;

function* sentencesOf(input: string | Iterable<string>): Iterable<string> {
  if (typeof input === "string") {
    yield* input.split("\n");
    return;
  }
  for (const chunk of input) yield* chunk.split("\n");
}

export function trainBpe(input: string | Iterable<string>, options: TrainBpeOptions): SentencePieceModelProto {
  const byteFallback = options.byteFallback ?? true;
  const splitDigits = options.splitDigits ?? true;
  const coverage = options.characterCoverage ?? 0.99995;
  const maxPieceLength = options.maxPieceLength ?? 16;
  const allowWsOnly = options.allowWhitespaceOnlyPieces ?? true;
  const userDefined = options.userDefinedSymbols ?? [];
  const normalizerSpec = {
    ...defaultNormalizerSpec(),
    name: "identity",
    addDummyPrefix: options.addDummyPrefix ?? true,
    removeExtraWhitespaces: options.removeExtraWhitespaces ?? false,
  };
  const normalizer = new SentencePieceNormalizer({
    spec: normalizerSpec,
    treatWhitespaceAsSuffix: false,
    userDefinedSymbols: [],
  });
  const reserved = 3 + (byteFallback ? 256 : 0) + userDefined.length;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize <= reserved) {
    throw new ValidationError(
      `trainBpe: vocabSize must be an integer above ${reserved} (the special, byte and user-defined pieces); found ${options.vocabSize}`,
      {
        location: "vocabSize",
      },
    );
  }

  // 1. Word counts.
  const splitter = new WordSplitter(splitDigits);
  const wordCounts = new Map<string, number>();
  const addWord = (w: string): void => {
    wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  };
  for (const sentence of sentencesOf(input)) {
    if (sentence.length === 0) continue;
    splitter.split(normalizer.normalize(sentence), addWord);
  }

  // 2. Characters that cover the text; the rest are left to byte fallback / <unk>.
  const charCounts = new Map<string, number>();
  let totalChars = 0;
  for (const [word, count] of wordCounts) {
    for (const ch of word) {
      charCounts.set(ch, (charCounts.get(ch) ?? 0) + count);
      totalChars += count;
    }
  }
  const chars = [...charCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const kept: string[] = [];
  let covered = 0;
  for (const [ch, count] of chars) {
    if (kept.length > 0 && covered / totalChars >= coverage) break;
    kept.push(ch);
    covered += count;
  }
  const merges = options.vocabSize - reserved - kept.length;
  if (merges < 0) {
    throw new ValidationError(
      `trainBpe: vocabSize ${options.vocabSize} is too small: the text needs ${kept.length} characters plus ${reserved} special/byte pieces; raise vocabSize or lower characterCoverage`,
      { location: "vocabSize" },
    );
  }

  // 3. Symbols: ids for kept characters; words become id arrays split at dropped characters.
  const symbolText: string[] = [];
  const symbolLength: number[] = [];
  const symbolId = new Map<string, number>();
  for (const ch of kept) {
    symbolId.set(ch, symbolText.length);
    symbolText.push(ch);
    symbolLength.push(1);
  }
  const words: Int32Array[] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    let current: number[] = [];
    for (const ch of word) {
      const id = symbolId.get(ch);
      if (id === undefined) {
        if (current.length > 1) {
          words.push(Int32Array.from(current));
          counts.push(count);
        }
        current = [];
      } else current.push(id);
    }
    if (current.length > 1) {
      words.push(Int32Array.from(current));
      counts.push(count);
    }
  }

  // 4. Pair statistics.
  const isSpace = (id: number): boolean => /^\u2581+$/.test(symbolText[id]!);
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const heap = new CountHeap();
  const mergeable = (a: number, b: number): boolean => {
    if (symbolLength[a]! + symbolLength[b]! > maxPieceLength) return false;
    if (!allowWsOnly && isSpace(a) && isSpace(b)) return false;
    // ▁ only begins a piece: nothing may end in it unless the whole piece is whitespace.
    if (isSpace(b) && !isSpace(a)) return false;
    return true;
  };
  const touch = (key: number, delta: number, word: number): void => {
    const next = (pairCounts.get(key) ?? 0) + delta;
    pairCounts.set(key, next);
    if (delta > 0) {
      let list = pairWords.get(key);
      if (!list) pairWords.set(key, (list = []));
      if (list[list.length - 1] !== word) list.push(word);
      heap.push({ count: next, key });
    }
  };
  const addPairs = (w: number, sign: number): void => {
    const s = words[w]!;
    for (let i = 0; i + 1 < s.length; i++) {
      if (mergeable(s[i]!, s[i + 1]!)) touch(s[i]! * PAIR_BASE + s[i + 1]!, sign * counts[w]!, w);
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);

  // 5. Merges.
  const mergedIds: number[] = [];
  while (mergedIds.length < merges && heap.size > 0) {
    const top = heap.pop();
    const live = pairCounts.get(top.key) ?? 0;
    if (live !== top.count) {
      if (live > 0 && live < top.count) heap.push({ count: live, key: top.key });
      continue;
    }
    if (live <= 0) break;
    const a = Math.floor(top.key / PAIR_BASE);
    const b = top.key % PAIR_BASE;
    const text = symbolText[a]! + symbolText[b]!;
    let id = symbolId.get(text);
    if (id === undefined) {
      id = symbolText.length;
      symbolId.set(text, id);
      symbolText.push(text);
      symbolLength.push(symbolLength[a]! + symbolLength[b]!);
      mergedIds.push(id);
    }
    const affected = pairWords.get(top.key) ?? [];
    pairWords.delete(top.key);
    for (const w of affected) {
      const s = words[w]!;
      let found = false;
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] === a && s[i + 1] === b) {
          found = true;
          break;
        }
      }
      if (!found) continue;
      addPairs(w, -1);
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(s[i]!);
      }
      words[w] = Int32Array.from(out);
      addPairs(w, 1);
    }
    pairCounts.delete(top.key);
  }

  // 6. The model: specials, bytes, user-defined, merged pieces by merge order, then characters.
  const pieces: SentencePiece[] = [
    { piece: "<unk>", score: 0, type: "unknown" },
    { piece: "<s>", score: 0, type: "control" },
    { piece: "</s>", score: 0, type: "control" },
  ];
  if (byteFallback) for (let b = 0; b < 256; b++) pieces.push({ piece: bytePieceName(b), score: 0, type: "byte" });
  for (const s of userDefined) pieces.push({ piece: s, score: 0, type: "user-defined" });
  let score = 0;
  for (const id of mergedIds) pieces.push({ piece: symbolText[id]!, score: -score++, type: "normal" });
  const taken = new Set(pieces.map((p) => p.piece));
  for (const ch of kept) if (!taken.has(ch)) pieces.push({ piece: ch, score: -score++, type: "normal" });
  const trainerSpec = {
    ...defaultTrainerSpec(),
    modelType: "bpe" as const,
    vocabSize: pieces.length,
    characterCoverage: coverage,
    splitDigits,
    byteFallback,
    allowWhitespaceOnlyPieces: allowWsOnly,
    maxSentencepieceLength: maxPieceLength,
    userDefinedSymbols: [...userDefined],
    padId: -1,
  };
  return { pieces, trainerSpec, normalizerSpec, denormalizerSpec: undefined };
}
