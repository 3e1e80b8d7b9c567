// The doubly linked list of symbols a BPE merge works on, in reusable typed arrays.

export class SymbolList {
  ids: Int32Array = new Int32Array(64);
  lengths: Int32Array = new Int32Array(64);
  prev: Int32Array = new Int32Array(64);
  next: Int32Array = new Int32Array(64);
  frozen: Uint8Array = new Uint8Array(64);
  count = 0;

  reset(capacity: number): void {
    if (capacity > this.ids.length) {
      const n = Math.max(capacity, this.ids.length * 2);
      this.ids = new Int32Array(n);
      this.lengths = new Int32Array(n);
      this.prev = new Int32Array(n);
      this.next = new Int32Array(n);
      this.frozen = new Uint8Array(n);
    }
    this.count = 0;
  }

  add(id: number, length: number, frozen: boolean): void {
    const i = this.count++;
    this.ids[i] = id;
    this.lengths[i] = length;
    this.frozen[i] = frozen ? 1 : 0;
    this.prev[i] = i - 1;
    this.next[i] = i + 1;
  }

  /** Call after the last add: closes the list. */
  close(): void {
    if (this.count > 0) this.next[this.count - 1] = -1;
  }

  /** Joins `right` into `left` as symbol `id`. */
  merge(left: number, right: number, id: number): void {
    this.ids[left] = id;
    this.lengths[left] = this.lengths[left]! + this.lengths[right]!;
    this.lengths[right] = 0;
    const after = this.next[right]!;
    this.next[left] = after;
    if (after >= 0) this.prev[after] = left;
  }
}

/** Pair lookup tables keyed by (left symbol id, right symbol id) → merge entry. */
export type PairTable = Array<Map<number, number> | undefined>;

export function lookupPair(table: PairTable, left: number, right: number): number {
  if (left < 0 || right < 0) return -1;
  const row = table[left];
  if (row === undefined) return -1;
  const entry = row.get(right);
  return entry === undefined ? -1 : entry;
}

export function addPair(table: PairTable, left: number, right: number, entry: number): void {
  let row = table[left];
  if (row === undefined) {
    row = new Map();
    table[left] = row;
  }
  row.set(right, entry);
}
