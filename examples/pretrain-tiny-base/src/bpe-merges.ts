/**
 * A small SentencePiece-style BPE trainer: learns merges over whitespace-prefixed words ("▁word"), never across a
 * letter / digit / punctuation boundary, digits kept single (split_digits). Stand-in until @llamats/tokenizer's
 * trainBpe lands; it returns pieces in SentencePiece's BPE order (merges by rank, then the base characters).
 */
export interface LearnedBpe {
  /** Merged pieces, best first (SentencePiece gives them scores 0, -1, -2, …). */
  merges: string[];
  /** Base characters kept as pieces (rarer ones fall back to bytes). */
  characters: string[];
}

const SPACE = '\u2581';
// Runs of letters, single digits, runs of other non-space characters, each optionally led by ▁ (as SentencePiece splits).
const WORD_PATTERN = new RegExp(`${SPACE}?(?:\\p{L}+|\\p{N}|[^\\p{L}\\p{N}${SPACE}\\s]+)|${SPACE}`, 'gu');

/** Word frequencies of texts, normalized the way LLaMA's SentencePiece sees them (dummy prefix, spaces as ▁). */
export function countWords(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const normalized = SPACE + line.replaceAll(' ', SPACE);
      for (const match of normalized.matchAll(WORD_PATTERN)) counts.set(match[0], (counts.get(match[0]) ?? 0) + 1);
    }
  }
  return counts;
}

/** Characters covering `coverage` of all character occurrences (SentencePiece's character_coverage). */
function keptCharacters(words: Map<string, number>, coverage: number): string[] {
  const counts = new Map<string, number>();
  let total = 0;
  for (const [word, n] of words) for (const ch of word) { counts.set(ch, (counts.get(ch) ?? 0) + n); total += n; }
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const kept: string[] = [];
  let covered = 0;
  for (const [ch, n] of sorted) {
    if (covered / total >= coverage) break;
    kept.push(ch);
    covered += n;
  }
  return kept;
}

/** Learns `mergeCount` merges from word frequencies. */
export function learnBpe(words: Map<string, number>, mergeCount: number, coverage = 0.9995): LearnedBpe {
  const characters = keptCharacters(words, coverage);
  const charSet = new Set(characters);
  const symbols: string[] = [];
  const symbolId = new Map<string, number>();
  const idOf = (s: string): number => {
    let id = symbolId.get(s);
    if (id === undefined) { id = symbols.length; symbols.push(s); symbolId.set(s, id); }
    return id;
  };
  // Words as symbol-id sequences; a character outside the kept set breaks the word (bytes never merge).
  const seqs: number[][] = [];
  const freqs: number[] = [];
  for (const [word, n] of words) {
    let current: number[] = [];
    for (const ch of word) {
      if (!charSet.has(ch)) { if (current.length > 1) { seqs.push(current); freqs.push(n); } current = []; continue; }
      current.push(idOf(ch));
    }
    if (current.length > 1) { seqs.push(current); freqs.push(n); }
  }
  const SHIFT = 1 << 20;
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: number): void => {
    const seq = seqs[w] as number[];
    for (let i = 0; i + 1 < seq.length; i++) {
      const key = (seq[i] as number) * SHIFT + (seq[i + 1] as number);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * (freqs[w] as number));
      if (sign > 0) { let set = pairWords.get(key); if (!set) { set = new Set(); pairWords.set(key, set); } set.add(w); }
    }
  };
  for (let w = 0; w < seqs.length; w++) addPairs(w, 1);
  const merges: string[] = [];
  while (merges.length < mergeCount) {
    let bestKey = -1;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && key < bestKey)) { bestKey = key; bestCount = count; }
    }
    if (bestKey < 0 || bestCount < 2) break;
    const a = Math.floor(bestKey / SHIFT);
    const b = bestKey % SHIFT;
    const merged = idOf((symbols[a] as string) + (symbols[b] as string));
    merges.push(symbols[merged] as string);
    for (const w of pairWords.get(bestKey) ?? []) {
      addPairs(w, -1);
      const seq = seqs[w] as number[];
      const next: number[] = [];
      for (let i = 0; i < seq.length; i++) {
        if (i + 1 < seq.length && seq[i] === a && seq[i + 1] === b) { next.push(merged); i++; } else next.push(seq[i] as number);
      }
      seqs[w] = next;
      addPairs(w, 1);
    }
    pairCounts.delete(bestKey);
    pairWords.delete(bestKey);
  }
  return { merges, characters };
}
