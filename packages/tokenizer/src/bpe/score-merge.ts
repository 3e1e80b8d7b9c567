// SentencePiece's BPE merge (bpe_model.cc): repeatedly join the adjacent pair whose concatenation is
// the best-scoring piece, leftmost on ties; frozen (user-defined) symbols never join.
import type { PairHeap } from "./pair-heap.js";
import { lookupPair, type PairTable, type SymbolList } from "./symbol-list.js";

export interface ScoreMergeRules {
  /** (left symbol id, right symbol id) → id of the joined piece. */
  pairs: PairTable;
  /** Rank of each piece's score, 0 for the highest score (equal scores share a rank). */
  scoreRank: Int32Array;
  /** Called for each candidate pair that was queued (SentencePiece records these to split unused pieces). */
  onCandidate?: (result: number, leftId: number, rightId: number) => void;
}

export function mergeByScore(symbols: SymbolList, heap: PairHeap, rules: ScoreMergeRules): void {
  const { pairs, scoreRank, onCandidate } = rules;
  heap.reset();
  const maybeAdd = (l: number, r: number): void => {
    if (l < 0 || r < 0 || symbols.frozen[l] || symbols.frozen[r]) return;
    const leftId = symbols.ids[l]!;
    const rightId = symbols.ids[r]!;
    const result = lookupPair(pairs, leftId, rightId);
    if (result < 0) return;
    heap.push(scoreRank[result]!, l, r, symbols.lengths[l]! + symbols.lengths[r]!);
    if (onCandidate) onCandidate(result, leftId, rightId);
  };
  for (let i = 1; i < symbols.count; i++) maybeAdd(i - 1, i);
  const lengths = symbols.lengths;
  while (heap.size > 0) {
    const top = heap.pop();
    const l = heap.left[top]!;
    const r = heap.right[top]!;
    // Stale entry: one side was joined into something else since it was queued.
    if (lengths[l] === 0 || lengths[r] === 0 || lengths[l]! + lengths[r]! !== heap.extra[top]) continue;
    symbols.merge(l, r, lookupPair(pairs, symbols.ids[l]!, symbols.ids[r]!));
    maybeAdd(symbols.prev[l]!, l);
    maybeAdd(l, symbols.next[l]!);
  }
}
