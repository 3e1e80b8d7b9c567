/**
 * Dropout's keep decision for element `index` under a 32-bit `seed`, counter-based (nothing stored, nothing drawn in
 * order): the same bits on every backend, and a backward pass or a checkpoint's recomputation gets the forward's mask
 * from the seed alone. The hash is Wellons' lowbias32 applied twice; the kernels (JS here, WGSL in dropout.webgpu.ts)
 * spell out the same integer arithmetic.
 */
export function lowbias32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** 24 random bits an element: it is kept when they are at least the threshold. */
export const DROPOUT_BITS = 24;

/** The threshold for `rate`: an element is dropped with probability threshold / 2^24 (rate to within 6e-8). */
export function dropoutThreshold(rate: number): number {
  return Math.round(rate * 2 ** DROPOUT_BITS);
}

export function dropoutKeeps(seed: number, index: number, threshold: number): boolean {
  return lowbias32((lowbias32(index) ^ seed) >>> 0) >>> (32 - DROPOUT_BITS) >= threshold;
}

/** torch's scale for kept elements, 1 / (1 − rate), rounded to float32 as the kernels multiply by it. */
export function dropoutScale(rate: number): number {
  return Math.fround(1 / (1 - rate));
}
