/** Serializable state of the seeded generator: enough to continue the same stream after a resume. */
export interface RngState {
  seed: number;
  /** mulberry32's 32-bit counter. */
  state: number;
}

/** A small seeded PRNG (mulberry32) whose whole state is one number, so checkpoints can hold it. */
export class SeededRng {
  private counter: number;

  constructor(readonly seed: number, state?: number) {
    this.counter = state ?? (seed >>> 0);
  }

  /** A float in [0, 1). */
  next(): number {
    this.counter = (this.counter + 0x6d2b79f5) >>> 0;
    let t = this.counter;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  getState(): RngState {
    return { seed: this.seed, state: this.counter };
  }

  static fromState(state: RngState): SeededRng {
    return new SeededRng(state.seed, state.state);
  }
}

/** Mixes a seed and a salt (e.g. the epoch) into a new 32-bit seed, so each epoch's order is independent. */
export function deriveSeed(seed: number, salt: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (salt + 0x85ebca6b), 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Fisher–Yates permutation of 0..n-1 driven by `rng`. */
export function permutation(n: number, rng: SeededRng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  return order;
}
