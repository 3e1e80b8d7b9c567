// float32 arithmetic as bitsandbytes' CUDA build does it (nvcc --use_fast_math, so flush-to-zero),
// emulated with doubles: one IEEE float32 op is Math.fround of the same op in double (exact for + − × ÷).

/** The smallest normal float32; flush-to-zero reads and writes anything smaller in magnitude as 0. */
const FLT_MIN_NORMAL = 2 ** -126;
/** The largest finite float32 (C's FLT_MAX): bitsandbytes starts its absmax reduction from −FLT_MAX. */
export const FLT_MAX = 3.4028234663852886e38;

/** A subnormal becomes a zero of the same sign; NaN and everything else pass through. */
export function flushSubnormal(x: number): number {
  return x < FLT_MIN_NORMAL && x > -FLT_MIN_NORMAL ? x * 0 : x;
}

/**
 * The scale bitsandbytes multiplies a block by: the float32 reciprocal of its absmax, flushed.
 * (absmax 0 gives +Infinity; CUDA's fast-math reciprocal can differ from this correctly rounded one in the last bit.)
 */
function reciprocalScale(absmax: number): number {
  return flushSubnormal(Math.fround(1 / absmax));
}

/**
 * A block's absmax as bitsandbytes' quantize kernels reduce it: fmaxf over |x| (NaN skipped, subnormals read as 0),
 * starting from −FLT_MAX; a last, partial block also counts the zeros it is padded with.
 */
function blockAbsmax(values: Float32Array, start: number, end: number, padded: boolean): number {
  // Fast path: Math.max (no data-dependent branch); it carries NaN through, and then the exact reduction runs.
  let max = 0;
  for (let i = start; i < end; i++) max = Math.max(max, Math.abs(values[i]));
  if (max >= FLT_MIN_NORMAL) return max;
  if (max === max) return 0; // zeros and subnormals only: flushed, fmaxf gives 0 (also from −FLT_MAX)
  max = padded ? 0 : -FLT_MAX;
  for (let i = start; i < end; i++) {
    const a = flushSubnormal(Math.abs(values[i]));
    if (a > max) max = a; // false for NaN: fmaxf drops a NaN operand
  }
  return max;
}

/**
 * Walks `values` block by block as bitsandbytes' blockwise quantizers do (a last partial block has its own absmax):
 * calls `visit` with each block's range, the float32 reciprocal its values are scaled by, and its absmax, and
 * returns the absmax of every block.
 */
export function forEachAbsmaxBlock(
  values: Float32Array,
  blockSize: number,
  visit: (start: number, end: number, scale: number, absmax: number) => void,
): Float32Array {
  const n = values.length;
  const absmax = new Float32Array(Math.ceil(n / blockSize));
  for (let b = 0; b < absmax.length; b++) {
    const start = b * blockSize;
    const end = Math.min(n, start + blockSize);
    const max = blockAbsmax(values, start, end, end - start < blockSize);
    absmax[b] = max;
    visit(start, end, reciprocalScale(max), max);
  }
  return absmax;
}
