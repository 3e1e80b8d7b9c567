// The tokenizers library's BPE model: rank-ordered merges with byte fallback, unk fusing and ignore_merges.
import { FormatError } from "@llamats/core";
import { PairHeap } from "../bpe/pair-heap.js";
import { mergeByRank } from "../bpe/rank-merge.js";
import { addPair, SymbolList, type PairTable } from "../bpe/symbol-list.js";
import { bytePieceName, utf8Encode } from "../utf8.js";
import { asObject, boolField, child, type ComponentContext, type JsonObject } from "./json-fields.js";
import { unsupportedComponent } from "./unsupported.js";

const CACHE_LIMIT = 1 << 16;
const METASPACE = "\u2581";

export class HfBpeModel {
  readonly vocab: Map<string, number>;
  readonly idToToken: string[] = [];
  private readonly pairs: PairTable = [];
  private readonly mergeResult: Int32Array;
  private readonly byteFallback: boolean;
  private readonly fuseUnk: boolean;
  private readonly unkId: number | undefined;
  private readonly ignoreMerges: boolean;
  private readonly prefix: string | undefined;
  private readonly suffix: string | undefined;
  private readonly byteIds: Int32Array | undefined;
  /** Characters that some merged token holds right before ▁: elsewhere a word can be cut before ▁. */
  private readonly joinsBeforeMetaspace = new Set<string>();
  private readonly canCutAtMetaspace: boolean;
  private readonly cache = new Map<string, Int32Array>();
  private readonly symbols = new SymbolList();
  private readonly heap = new PairHeap();

  constructor(json: JsonObject, ctx: ComponentContext) {
    if (json.dropout !== null && json.dropout !== undefined && json.dropout !== 0) {
      unsupportedComponent(child(ctx, ".dropout"), `dropout ${JSON.stringify(json.dropout)}`, [
        "null (deterministic BPE)",
      ]);
    }
    const vocabJson = asObject(json.vocab, child(ctx, ".vocab"));
    this.vocab = new Map();
    for (const [token, id] of Object.entries(vocabJson)) {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
        throw new FormatError(
          `${ctx.file}: ${ctx.path}.vocab[${JSON.stringify(token)}] must be a non-negative integer id; found ${JSON.stringify(id)}`,
          {
            file: ctx.file,
          },
        );
      }
      this.vocab.set(token, id);
      this.idToToken[id] = token;
    }
    const merges = Array.isArray(json.merges) ? json.merges : [];
    this.mergeResult = new Int32Array(merges.length);
    let mergesTouchBytes = false;
    merges.forEach((merge, rank) => {
      let a: string | undefined;
      let b: string | undefined;
      if (typeof merge === "string") {
        // The older one-string form "a b".
        const space = merge.indexOf(" ", 1);
        if (space > 0) [a, b] = [merge.slice(0, space), merge.slice(space + 1)];
      } else if (Array.isArray(merge) && merge.length === 2) {
        [a, b] = merge as [string, string];
      }
      if (typeof a !== "string" || typeof b !== "string") {
        throw new FormatError(
          `${ctx.file}: ${ctx.path}.merges[${rank}] must be ["a", "b"] or "a b"; found ${JSON.stringify(merge)}`,
          { file: ctx.file },
        );
      }
      const aId = this.vocab.get(a);
      const bId = this.vocab.get(b);
      const newId = this.vocab.get(a + b);
      if (aId === undefined || bId === undefined || newId === undefined) {
        const missing = aId === undefined ? a : bId === undefined ? b : a + b;
        throw new FormatError(
          `${ctx.file}: ${ctx.path}.merges[${rank}] (${JSON.stringify([a, b])}) uses ${JSON.stringify(missing)}, which is not in the vocab`,
          {
            file: ctx.file,
          },
        );
      }
      this.mergeResult[rank] = newId;
      addPair(this.pairs, aId, bId, rank);
      if (/^<0x[0-9A-Fa-f]{2}>$/.test(a) || /^<0x[0-9A-Fa-f]{2}>$/.test(b)) mergesTouchBytes = true;
      const merged = a + b;
      for (let i = merged.indexOf(METASPACE, 1); i > 0; i = merged.indexOf(METASPACE, i + 1)) {
        const before = merged.codePointAt(i - 1)! >= 0x10000 ? merged.slice(i - 2, i) : merged[i - 1]!;
        this.joinsBeforeMetaspace.add(before);
      }
    });
    this.byteFallback = boolField(json, "byte_fallback", false);
    this.fuseUnk = boolField(json, "fuse_unk", false);
    this.ignoreMerges = boolField(json, "ignore_merges", false);
    this.prefix = typeof json.continuing_subword_prefix === "string" ? json.continuing_subword_prefix : undefined;
    this.suffix = typeof json.end_of_word_suffix === "string" ? json.end_of_word_suffix : undefined;
    const unk = typeof json.unk_token === "string" ? json.unk_token : undefined;
    this.unkId = unk === undefined ? undefined : this.vocab.get(unk);
    if (unk !== undefined && this.unkId === undefined) {
      throw new FormatError(`${ctx.file}: ${ctx.path}.unk_token ${JSON.stringify(unk)} is not in the vocab`, {
        file: ctx.file,
      });
    }
    if (this.byteFallback) {
      const ids = new Int32Array(256);
      let complete = true;
      for (let b = 0; b < 256; b++) {
        const id = this.vocab.get(bytePieceName(b));
        if (id === undefined) complete = false;
        ids[b] = id ?? -1;
      }
      this.byteIds = complete ? ids : undefined;
    }
    // Cutting a word before ▁ is exact only when nothing can join across the cut: no merged token
    // spans it, no unknown characters fuse across it, and word-position affixes are off.
    const unkCanFuse = this.unkId !== undefined && this.fuseUnk && this.byteIds === undefined;
    this.canCutAtMetaspace = !mergesTouchBytes && !unkCanFuse && this.prefix === undefined && this.suffix === undefined;
  }

  /** Token ids of one pre-tokenized word, appended to `out`. */
  tokenize(word: string, out: number[]): void {
    if (this.ignoreMerges) {
      const whole = this.vocab.get(word);
      if (whole !== undefined) {
        out.push(whole);
        return;
      }
    }
    if (!this.canCutAtMetaspace || word.length < 16) {
      this.appendCached(word, out);
      return;
    }
    let start = 0;
    for (let i = word.indexOf(METASPACE, 1); i > 0; i = word.indexOf(METASPACE, i + 1)) {
      const prev = word.charCodeAt(i - 1);
      if (prev === 0x2581) continue;
      if (this.joinsBeforeMetaspace.size > 0 && this.joinsBeforeMetaspace.has(previousCodePoint(word, i))) continue;
      this.appendCached(word.slice(start, i), out);
      start = i;
    }
    this.appendCached(start === 0 ? word : word.slice(start), out);
  }

  private appendCached(piece: string, out: number[]): void {
    let ids = this.cache.get(piece);
    if (ids === undefined) {
      ids = this.merge(piece);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(piece, ids);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  }

  private merge(word: string): Int32Array {
    const symbols = this.symbols;
    symbols.reset(word.length * 4 + 1);
    let unkLength = 0;
    const flushUnk = (): void => {
      if (unkLength > 0) symbols.add(this.unkId!, unkLength, false);
      unkLength = 0;
    };
    for (let i = 0; i < word.length;) {
      const cp = word.codePointAt(i)!;
      const ch = cp >= 0x10000 ? word.slice(i, i + 2) : word[i]!;
      const isFirst = i === 0;
      i += ch.length;
      const isLast = i >= word.length;
      let key = ch;
      if (!isFirst && this.prefix !== undefined) key = this.prefix + key;
      if (isLast && this.suffix !== undefined) key = key + this.suffix;
      const id = this.vocab.get(key);
      if (id !== undefined) {
        flushUnk();
        symbols.add(id, ch.length, false);
        continue;
      }
      if (this.byteFallback) {
        const bytes = utf8Encode(key);
        let all = true;
        for (const b of bytes) if (this.vocab.get(bytePieceName(b)) === undefined) all = false;
        if (all) {
          // Pending unknowns stay pending across byte tokens, as in the Rust code.
          for (const b of bytes) symbols.add(this.vocab.get(bytePieceName(b))!, 1, false);
          continue;
        }
      }
      if (this.unkId !== undefined) {
        if (unkLength > 0 && !this.fuseUnk) flushUnk();
        unkLength += ch.length;
      }
    }
    flushUnk();
    symbols.close();
    mergeByRank(symbols, this.heap, { pairs: this.pairs, mergeResult: this.mergeResult });
    const out: number[] = [];
    for (let s = symbols.count > 0 ? 0 : -1; s >= 0; s = symbols.next[s]!) out.push(symbols.ids[s]!);
    return Int32Array.from(out);
  }
}

function previousCodePoint(text: string, i: number): string {
  const c = text.charCodeAt(i - 1);
  if (c >= 0xdc00 && c <= 0xdfff && i >= 2) return text.slice(i - 2, i);
  return text[i - 1]!;
}

export function buildModel(json: unknown, ctx: ComponentContext): HfBpeModel {
  const obj = asObject(json, ctx);
  const type = obj.type ?? (obj.merges !== undefined ? "BPE" : undefined);
  if (type !== "BPE") unsupportedComponent(child(ctx, ".type"), type, ["BPE"]);
  return new HfBpeModel(obj, ctx);
}
