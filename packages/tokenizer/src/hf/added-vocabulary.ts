// Added tokens (tokenizer.json `added_tokens`): cut out of the text before normalization (or after it,
// for `normalized` ones), honouring lstrip, rstrip and single_word as the tokenizers library does.
import { escapeRegex } from "./onig-regex.js";
import type { NormalizeFn } from "./normalizers.js";

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
  normalized: boolean;
}

/** A piece of input: either an added token's id, or text still to be pre-tokenized. */
export interface Segment {
  text: string;
  tokenId: number | undefined;
  atStart: boolean;
}

const ENDS_WITH_WORD = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;
const STARTS_WITH_WORD = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;
const TRAILING_SPACE = /\p{White_Space}*$/u;
const LEADING_SPACE = /^\p{White_Space}*/u;

class TokenMatcher {
  private readonly regex: RegExp;
  private readonly byContent: Map<string, AddedToken>;

  constructor(tokens: Array<[string, AddedToken]>) {
    this.byContent = new Map(tokens);
    const contents = [...this.byContent.keys()].filter((c) => c.length > 0).sort((a, b) => b.length - a.length);
    // Longest alternatives first: JavaScript's leftmost-first alternation then finds leftmost-longest matches.
    this.regex = new RegExp(contents.map(escapeRegex).join("|"), "gu");
  }

  /** Splits `text` into token and non-token spans (non-empty). */
  split(text: string, atStart: boolean, out: Segment[], onText: (segment: Segment) => void): void {
    if (text.length === 0) return;
    const regex = this.regex;
    regex.lastIndex = 0;
    let startOffset = 0;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      let start = m.index;
      let stop = start + m[0].length;
      const token = this.byContent.get(m[0])!;
      if (token.singleWord) {
        const startSpace = start === 0 || !ENDS_WITH_WORD.test(text.slice(0, start));
        const stopSpace = stop === text.length || !STARTS_WITH_WORD.test(text.slice(stop));
        if (!startSpace || !stopSpace) continue;
      }
      if (token.lstrip) {
        const before = text.slice(0, start);
        start = Math.max(before.length - TRAILING_SPACE.exec(before)![0].length, startOffset);
      }
      if (token.rstrip) stop += LEADING_SPACE.exec(text.slice(stop))![0].length;
      if (startOffset < start)
        onText({ text: text.slice(startOffset, start), tokenId: undefined, atStart: atStart && startOffset === 0 });
      out.push({ text: text.slice(start, stop), tokenId: token.id, atStart: false });
      startOffset = stop;
    }
    if (startOffset < text.length)
      onText({ text: text.slice(startOffset), tokenId: undefined, atStart: atStart && startOffset === 0 });
  }
}

export class AddedVocabulary {
  readonly tokens: AddedToken[];
  private readonly raw: TokenMatcher | undefined;
  private readonly normalizedMatcher: TokenMatcher | undefined;

  constructor(tokens: AddedToken[], normalize: NormalizeFn | undefined) {
    this.tokens = tokens;
    const raw = tokens.filter((t) => !t.normalized).map((t): [string, AddedToken] => [t.content, t]);
    // Tokens marked `normalized` are matched in normalized text, so their content is normalized too.
    const normalized = tokens
      .filter((t) => t.normalized)
      .map((t): [string, AddedToken] => [normalize ? normalize(t.content) : t.content, t]);
    this.raw = raw.length > 0 ? new TokenMatcher(raw) : undefined;
    this.normalizedMatcher = normalized.length > 0 ? new TokenMatcher(normalized) : undefined;
  }

  /** Cuts out added tokens and normalizes the text between them. */
  extractAndNormalize(text: string, normalize: NormalizeFn | undefined): Segment[] {
    const out: Segment[] = [];
    const normalizeAndSplit = (segment: Segment): void => {
      const normalized = normalize ? normalize(segment.text) : segment.text;
      if (normalized.length === 0) return;
      if (this.normalizedMatcher) this.normalizedMatcher.split(normalized, segment.atStart, out, (s) => out.push(s));
      else out.push({ text: normalized, tokenId: undefined, atStart: segment.atStart });
    };
    if (this.raw) this.raw.split(text, true, out, normalizeAndSplit);
    else if (text.length > 0) normalizeAndSplit({ text, tokenId: undefined, atStart: true });
    return out;
  }
}
