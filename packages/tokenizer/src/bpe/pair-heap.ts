// A min-heap of candidate merges ordered by (priority, left position): the order both
// SentencePiece (best score, then leftmost) and tokenizers (lowest rank, then leftmost) use.

export class PairHeap {
  priority: Int32Array = new Int32Array(64);
  left: Int32Array = new Int32Array(64);
  right: Int32Array = new Int32Array(64);
  extra: Int32Array = new Int32Array(64);
  private heap: Int32Array = new Int32Array(64);
  private count = 0;
  private allocated = 0;

  get size(): number {
    return this.count;
  }

  reset(): void {
    this.count = 0;
    this.allocated = 0;
  }

  push(priority: number, left: number, right: number, extra: number): void {
    if (this.allocated === this.priority.length) this.grow();
    const e = this.allocated++;
    this.priority[e] = priority;
    this.left[e] = left;
    this.right[e] = right;
    this.extra[e] = extra;
    let i = this.count++;
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(e, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = e;
  }

  /** Removes the best entry and returns its index into the field arrays. */
  pop(): number {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap[--this.count]!;
    let i = 0;
    const n = this.count;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.less(heap[child + 1]!, heap[child]!)) child++;
      if (!this.less(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }

  private less(a: number, b: number): boolean {
    const pa = this.priority[a]!;
    const pb = this.priority[b]!;
    return pa < pb || (pa === pb && this.left[a]! < this.left[b]!);
  }

  private grow(): void {
    const n = this.priority.length * 2;
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.priority = grow(this.priority);
    this.left = grow(this.left);
    this.right = grow(this.right);
    this.extra = grow(this.extra);
    this.heap = grow(this.heap);
  }
}
