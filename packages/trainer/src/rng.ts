import { SeededRng, shuffled } from "@llamats/core";

export { SeededRng };
export type { RngState } from "@llamats/core";

/** Mixes a seed and a salt (e.g. the epoch) into a new 32-bit seed, so each epoch's order is independent. */
export function deriveSeed(seed: number, salt: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (salt + 0x85ebca6b), 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Fisher–Yates permutation of 0..n-1 driven by `rng`. */
export function permutation(n: number, rng: SeededRng): number[] {
  return shuffled(
    Array.from({ length: n }, (_, i) => i),
    () => rng.next(),
  );
}
