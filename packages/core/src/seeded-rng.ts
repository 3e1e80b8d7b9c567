/** Serializable state of the seeded generator: enough to continue the same stream after a resume. */
export interface RngState {
  seed: number;
  /** mulberry32's 32-bit counter. */
  state: number;
}

/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sequence on every platform and backend,
 * and its whole state is one number, so checkpoints can hold it.
 */
export class SeededRng {
  private counter: number;

  constructor(
    readonly seed: number,
    state?: number,
  ) {
    this.counter = state ?? seed >>> 0;
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

/** The generator as a plain function returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  const rng = new SeededRng(seed);
  return () => rng.next();
}

/** Fisher–Yates shuffle of a copy, driven by `random`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
