// The tokenizers library's BPE merge (Word::merge_all): repeatedly apply the lowest-ranked merge
// among adjacent pairs, leftmost on ties.
import type { PairHeap } from "./pair-heap.js";
import { lookupPair, type PairTable, type SymbolList } from "./symbol-list.js";

export interface RankMergeRules {
  /** (left id, right id) → merge rank (its line in `merges`). */
  pairs: PairTable;
  /** Merge rank → id of the merged token. */
  mergeResult: Int32Array;
}

export function mergeByRank(symbols: SymbolList, heap: PairHeap, rules: RankMergeRules): void {
  const { pairs, mergeResult } = rules;
  heap.reset();
  const ids = symbols.ids;
  for (let i = 1; i < symbols.count; i++) {
    const rank = lookupPair(pairs, ids[i - 1]!, ids[i]!);
    if (rank >= 0) heap.push(rank, i - 1, 0, mergeResult[rank]!);
  }
  while (heap.size > 0) {
    const top = heap.pop();
    const pos = heap.left[top]!;
    const newId = heap.extra[top]!;
    if (symbols.lengths[pos] === 0) continue;
    const right = symbols.next[pos]!;
    if (right < 0) continue;
    // Stale entry: the pair at `pos` no longer produces the token this entry was queued for.
    const current = lookupPair(pairs, ids[pos]!, ids[right]!);
    if (current < 0 || mergeResult[current] !== newId) continue;
    symbols.merge(pos, right, newId);
    const before = symbols.prev[pos]!;
    if (before >= 0) {
      const rank = lookupPair(pairs, ids[before]!, ids[pos]!);
      if (rank >= 0) heap.push(rank, before, 0, mergeResult[rank]!);
    }
    const after = symbols.next[pos]!;
    if (after >= 0) {
      const rank = lookupPair(pairs, ids[pos]!, ids[after]!);
      if (rank >= 0) heap.push(rank, pos, 0, mergeResult[rank]!);
    }
  }
}
