// SentencePiece BPE encoding of a normalized string: user-defined pieces first, then score-ordered
// merges, then splitting of unused pieces, then byte fallback or <unk> for what is left unknown.
import { ConfigError } from "@llamats/core";
import { PairHeap } from "../bpe/pair-heap.js";
import { mergeByScore, type ScoreMergeRules } from "../bpe/score-merge.js";
import { addPair, SymbolList, type PairTable } from "../bpe/symbol-list.js";
import { bytePieceValue, utf8Encode } from "../utf8.js";
import type { SentencePieceModelProto } from "./model-proto.js";
import { SPACE_SYMBOL } from "./normalizer.js";

const SPACE_CODE = SPACE_SYMBOL.charCodeAt(0);
const CACHE_LIMIT = 1 << 16;

function codePointLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

export class SentencePieceBpeEncoder {
  /** Pieces SentencePiece can produce by matching or merging: normal, user-defined, unused. */
  private readonly pieceIds = new Map<string, number>();
  /** Control, unknown and byte pieces: only reachable through an exact lookup. */
  private readonly reservedIds = new Map<string, number>();
  /** Symbol id of every string a symbol can hold: real piece ids, then ids for characters outside the vocabulary. */
  private readonly symbolIds = new Map<string, number>();
  private readonly symbolStrings: string[] = [];
  private readonly rules: ScoreMergeRules;
  private readonly unusedIds: Set<number>;
  private readonly userDefined: Map<number, string[]>;
  private readonly byteIds: Int32Array;
  private readonly byteFallback: boolean;
  readonly unkId: number;
  /** Characters that can directly precede ▁ inside some piece: before any other ▁ a merge can never cross. */
  private readonly joinsBeforeSpace = new Set<string>();
  private readonly cache = new Map<string, Int32Array>();
  /** Symbol id of each BMP character (-1: none), so single characters need no string lookup. */
  private readonly bmpSymbolIds = new Int32Array(0x10000).fill(-1);
  private readonly symbols = new SymbolList();
  private readonly heap = new PairHeap();

  constructor(model: SentencePieceModelProto, file: string) {
    const pieces = model.pieces;
    let unkId = -1;
    this.byteIds = new Int32Array(256).fill(-1);
    this.unusedIds = new Set();
    this.userDefined = new Map();
    pieces.forEach((p, id) => {
      const normal = p.type === "normal" || p.type === "user-defined" || p.type === "unused";
      const map = normal ? this.pieceIds : this.reservedIds;
      if (map.has(p.piece))
        throw new ConfigError(`${file}: piece ${JSON.stringify(p.piece)} (id ${id}) is defined twice`, {
          key: "pieces",
        });
      map.set(p.piece, id);
      if (p.type === "unknown") unkId = id;
      if (p.type === "unused") this.unusedIds.add(id);
      if (p.type === "user-defined") {
        const first = p.piece.slice(0, codePointLength(p.piece, 0));
        const list = this.userDefined.get(first.codePointAt(0)!) ?? [];
        list.push(p.piece);
        list.sort((a, b) => b.length - a.length);
        this.userDefined.set(first.codePointAt(0)!, list);
      }
      if (p.type === "byte") {
        const b = bytePieceValue(p.piece);
        if (b < 0)
          throw new ConfigError(`${file}: byte piece ${JSON.stringify(p.piece)} (id ${id}) is not of the form <0xNN>`, {
            key: "pieces",
          });
        this.byteIds[b] = id;
      }
    });
    if (unkId < 0)
      throw new ConfigError(`${file}: the model has no piece of type UNKNOWN (SentencePiece requires one)`, {
        key: "pieces",
      });
    this.unkId = unkId;
    this.byteFallback = model.trainerSpec.byteFallback;
    if (this.byteFallback && this.byteIds.some((id) => id < 0)) {
      throw new ConfigError(`${file}: byte_fallback is on but the model lacks some of the 256 <0xNN> byte pieces`, {
        key: "byte_fallback",
      });
    }
    for (let id = 0; id < pieces.length; id++) {
      this.symbolStrings.push(pieces[id]!.piece);
    }
    for (const [piece, id] of this.pieceIds) this.symbolIds.set(piece, id);

    // Every way a piece splits into two strings that symbols can hold becomes a merge rule.
    const scoreRank = rankScores(pieces.map((p) => p.score));
    const pairs: PairTable = [];
    for (const [piece, id] of this.pieceIds) {
      const cps = Array.from(piece);
      if (cps.length < 2) continue;
      let prefix = "";
      for (let k = 1; k < cps.length; k++) {
        prefix += cps[k - 1];
        const suffix = piece.slice(prefix.length);
        const left = this.symbolIdFor(prefix, k === 1);
        const right = this.symbolIdFor(suffix, k === cps.length - 1);
        if (left >= 0 && right >= 0) addPair(pairs, left, right, id);
      }
      for (let k = 1; k < cps.length; k++) if (cps[k] === SPACE_SYMBOL) this.joinsBeforeSpace.add(cps[k - 1]!);
    }
    this.rules = { pairs, scoreRank };
    for (const [text, id] of this.symbolIds) if (text.length === 1) this.bmpSymbolIds[text.charCodeAt(0)] = id;
  }

  /** The symbol id of `text`, creating one for a lone character outside the vocabulary; -1 if none can exist. */
  private symbolIdFor(text: string, singleChar: boolean): number {
    const known = this.symbolIds.get(text);
    if (known !== undefined) return known;
    if (!singleChar) return -1;
    const id = this.symbolStrings.length;
    this.symbolStrings.push(text);
    this.symbolIds.set(text, id);
    return id;
  }

  /** Encodes a normalized string (▁ for spaces) to piece ids. */
  encodeNormalized(normalized: string, out: number[]): void {
    const n = normalized.length;
    let start = 0;
    for (let i = normalized.indexOf(SPACE_SYMBOL, 1); i > 0 && i < n; i = normalized.indexOf(SPACE_SYMBOL, i + 1)) {
      // A merge can only cross this ▁ if some piece has the preceding character right before a ▁.
      const prevCode = normalized.charCodeAt(i - 1);
      if (prevCode === SPACE_CODE) continue;
      if (this.joinsBeforeSpace.size > 0 && this.joinsBeforeSpace.has(previousCodePoint(normalized, i))) continue;
      this.appendChunk(normalized.slice(start, i), out);
      start = i;
    }
    if (start < n) this.appendChunk(start === 0 ? normalized : normalized.slice(start), out);
  }

  private appendChunk(chunk: string, out: number[]): void {
    let ids = this.cache.get(chunk);
    if (ids === undefined) {
      ids = this.encodeChunk(chunk);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(chunk, ids);
    }
    let i = 0;
    // SentencePiece joins a run of unknown characters into one <unk> (without byte fallback).
    if (
      !this.byteFallback &&
      ids.length > 0 &&
      ids[0] === this.unkId &&
      out.length > 0 &&
      out[out.length - 1] === this.unkId
    )
      i = 1;
    for (; i < ids.length; i++) out.push(ids[i]!);
  }

  private matchUserDefined(text: string, i: number): string | undefined {
    if (this.userDefined.size === 0) return undefined;
    const list = this.userDefined.get(text.codePointAt(i)!);
    if (!list) return undefined;
    for (const candidate of list) if (text.startsWith(candidate, i)) return candidate;
    return undefined;
  }

  private encodeChunk(chunk: string): Int32Array {
    const symbols = this.symbols;
    symbols.reset(chunk.length);
    for (let i = 0; i < chunk.length;) {
      const user = this.matchUserDefined(chunk, i);
      const length = user ? user.length : codePointLength(chunk, i);
      const id =
        length === 1 && !user
          ? this.bmpSymbolIds[chunk.charCodeAt(i)]!
          : (this.symbolIds.get(user ?? chunk.slice(i, i + length)) ?? -1);
      symbols.add(id < 0 ? -1 - i : id, length, user !== undefined);
      i += length;
    }
    symbols.close();
    let revMerge: Map<number, [number, number]> | undefined;
    if (this.unusedIds.size > 0) {
      const recorded = new Map<number, [number, number]>();
      revMerge = recorded;
      mergeByScore(symbols, this.heap, {
        ...this.rules,
        onCandidate: (result, l, r) => {
          if (this.unusedIds.has(result)) recorded.set(result, [l, r]);
        },
      });
    } else {
      mergeByScore(symbols, this.heap, this.rules);
    }
    const out: number[] = [];
    let offset = 0;
    for (let s = 0; s >= 0 && s < symbols.count; s = symbols.next[s]!) {
      const id = symbols.ids[s]!;
      const text = id >= 0 ? this.symbolStrings[id]! : chunk.slice(offset, offset + symbols.lengths[s]!);
      offset += symbols.lengths[s]!;
      this.emitSymbol(id, text, revMerge, out);
    }
    return Int32Array.from(out);
  }

  private emitSymbol(
    id: number,
    text: string,
    revMerge: Map<number, [number, number]> | undefined,
    out: number[],
  ): void {
    if (revMerge && this.unusedIds.has(id)) {
      const halves = revMerge.get(id);
      if (halves) {
        this.emitSymbol(halves[0], this.symbolStrings[halves[0]]!, revMerge, out);
        this.emitSymbol(halves[1], this.symbolStrings[halves[1]]!, revMerge, out);
        return;
      }
    }
    const pieceId = this.pieceIds.get(text) ?? this.reservedIds.get(text);
    if (pieceId !== undefined && pieceId !== this.unkId) {
      out.push(pieceId);
      return;
    }
    if (this.byteFallback) {
      for (const b of utf8Encode(text)) out.push(this.byteIds[b]!);
      return;
    }
    if (out.length > 0 && out[out.length - 1] === this.unkId) return;
    out.push(this.unkId);
  }
}

function previousCodePoint(text: string, i: number): string {
  const c = text.charCodeAt(i - 1);
  if (c >= 0xdc00 && c <= 0xdfff && i >= 2) {
    const h = text.charCodeAt(i - 2);
    if (h >= 0xd800 && h <= 0xdbff) return text.slice(i - 2, i);
  }
  return text[i - 1]!;
}

/** Rank of each score among the distinct scores, highest first. */
function rankScores(scores: number[]): Int32Array {
  const distinct = [...new Set(scores.map((s) => (Object.is(s, -0) ? 0 : s)))].sort((a, b) => b - a);
  const rankOf = new Map(distinct.map((s, i) => [s, i]));
  return Int32Array.from(scores, (s) => rankOf.get(Object.is(s, -0) ? 0 : s)!);
}
