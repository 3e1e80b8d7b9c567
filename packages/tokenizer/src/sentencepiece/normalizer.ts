// SentencePiece's normalizer (normalizer.cc): charsmap rules, whitespace handling, dummy prefix, ▁ escaping.
import { utf8DecodeLossy, utf8Encode, sentencePieceCharLength } from "../utf8.js";
import type { NormalizerSpec } from "./model-proto.js";
import { PrecompiledCharsmap } from "./precompiled-charsmap.js";

export const SPACE_SYMBOL = "\u2581";
const SPACE_SYMBOL_BYTES = utf8Encode(SPACE_SYMBOL);
const REPLACEMENT_BYTES = utf8Encode("\uFFFD");
const SPACE = 0x20;

export interface SentencePieceNormalizerOptions {
  spec: NormalizerSpec;
  treatWhitespaceAsSuffix: boolean;
  /** User-defined pieces: matched before any normalization rule and passed through unchanged. */
  userDefinedSymbols: string[];
  file?: string;
}

export class SentencePieceNormalizer {
  private readonly spec: NormalizerSpec;
  private readonly suffix: boolean;
  private readonly charsmap: PrecompiledCharsmap | undefined;
  private readonly userDefined: Uint8Array[];
  private readonly identity: boolean;

  constructor(options: SentencePieceNormalizerOptions) {
    this.spec = options.spec;
    this.suffix = options.treatWhitespaceAsSuffix;
    this.charsmap =
      options.spec.precompiledCharsmap.length > 0
        ? new PrecompiledCharsmap(options.spec.precompiledCharsmap, options.file)
        : undefined;
    this.userDefined = options.userDefinedSymbols.map((s) => utf8Encode(s)).sort((a, b) => b.length - a.length);
    // Without rules, user-defined pieces pass through like any other text.
    this.identity = this.charsmap === undefined;
  }

  normalize(input: string): string {
    if (input.length === 0) return "";
    if (this.identity) return this.normalizeWhitespaceOnly(input);
    return this.normalizeWithRules(input);
  }

  private withDummy(body: string): string {
    if (!this.spec.addDummyPrefix) return body;
    const ws = this.spec.escapeWhitespaces ? SPACE_SYMBOL : " ";
    return this.suffix ? body + ws : ws + body;
  }

  private normalizeWhitespaceOnly(input: string): string {
    let text = input;
    if (this.spec.removeExtraWhitespaces) {
      // SentencePiece only treats U+0020 as a space here (other blanks are a charsmap's job).
      text = text.replace(/ {2,}/g, " ");
      let start = 0;
      let end = text.length;
      while (start < end && text.charCodeAt(start) === SPACE) start++;
      while (end > start && text.charCodeAt(end - 1) === SPACE) end--;
      text = text.slice(start, end);
      if (text.length === 0) return "";
    }
    if (this.spec.escapeWhitespaces) text = text.replaceAll(" ", SPACE_SYMBOL);
    return this.withDummy(text);
  }

  /** One normalization step at `offset`: [replacement bytes, input bytes consumed]. */
  private normalizePrefix(bytes: Uint8Array, offset: number): [Uint8Array, number] {
    for (const symbol of this.userDefined) {
      if (startsWithBytes(bytes, offset, symbol)) return [symbol, symbol.length];
    }
    const match = this.charsmap?.longestMatch(bytes, offset);
    if (match) return [match[1], match[0]];
    const length = sentencePieceCharLength(bytes, offset);
    if (length === 0) return [REPLACEMENT_BYTES, 1];
    return [bytes.subarray(offset, offset + length), length];
  }

  private normalizeWithRules(input: string): string {
    const bytes = utf8Encode(input);
    const removeExtra = this.spec.removeExtraWhitespaces;
    let offset = 0;
    if (removeExtra) {
      while (offset < bytes.length) {
        const [out, consumed] = this.normalizePrefix(bytes, offset);
        if (!(out.length === 1 && out[0] === SPACE)) break;
        offset += consumed;
      }
    }
    if (offset >= bytes.length) return "";
    const escape = this.spec.escapeWhitespaces;
    const out: number[] = [];
    const pushSpace = (): void => {
      if (escape) for (const b of SPACE_SYMBOL_BYTES) out.push(b);
      else out.push(SPACE);
    };
    if (!this.suffix && this.spec.addDummyPrefix) pushSpace();
    let isPrevSpace = removeExtra;
    while (offset < bytes.length) {
      const [piece, consumed] = this.normalizePrefix(bytes, offset);
      let start = 0;
      while (isPrevSpace && start < piece.length && piece[start] === SPACE) start++;
      if (start < piece.length) {
        for (let n = start; n < piece.length; n++) {
          if (escape && piece[n] === SPACE) pushSpace();
          else out.push(piece[n]!);
        }
        isPrevSpace = piece[piece.length - 1] === SPACE;
      }
      offset += consumed;
      if (!removeExtra) isPrevSpace = false;
    }
    if (removeExtra) {
      const space = escape ? SPACE_SYMBOL_BYTES : Uint8Array.of(SPACE);
      while (out.length >= space.length && space.every((b, i) => out[out.length - space.length + i] === b)) {
        out.length -= space.length;
      }
    }
    if (this.suffix && this.spec.addDummyPrefix) pushSpace();
    return utf8DecodeLossy(Uint8Array.from(out));
  }
}

function startsWithBytes(bytes: Uint8Array, offset: number, prefix: Uint8Array): boolean {
  if (offset + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[offset + i] !== prefix[i]) return false;
  return true;
}
