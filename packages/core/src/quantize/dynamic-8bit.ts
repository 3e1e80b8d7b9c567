// bitsandbytes' blockwise 8-bit quantization with its signed dynamic map (quantize_blockwise /
// dequantize_blockwise, CUDA kernel semantics). QLoRA's double quantization stores NF4's absmax this way.
import { ValidationError } from "../errors.js";
import { flushSubnormal, forEachAbsmaxBlock } from "./cuda-float.js";

/** Block sizes bitsandbytes' 8-bit blockwise kernels take. */
const BLOCKWISE_8BIT_BLOCK_SIZES = [64, 128, 256, 512, 1024, 2048, 4096] as const;

/**
 * bitsandbytes' signed dynamic 8-bit map (`create_dynamic_map()`): 256 sorted float32 codes in [−0.99297, 1]
 * with 0 at index 127. For each decade 10^(i−6), i = 0..6, the means of adjacent points of a float32
 * `linspace(0.1, 1, 2^i + 1)`, scaled by ±10^(i−6) in float32, plus 0 and 1. The linspace points are
 * start + step·k (k < n/2) and end − step·(n−1−k) with one rounding, as torch 2.x computes them (torch 1.x's
 * vectorized CPU linspace rounded twice and gives 42 codes one ulp apart). A map read from a checkpoint
 * (`nested_quant_map`) can be passed instead wherever a `code` is taken.
 */
export const DYNAMIC_8BIT_MAP: Float32Array = createDynamicMap();

function createDynamicMap(): Float32Array {
  const start = Math.fround(0.1);
  const end = 1;
  const decades = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];
  const codes: number[] = [0, 1];
  decades.forEach((decade, i) => {
    const n = 2 ** i + 1;
    const step = Math.fround((end - start) / (n - 1));
    const point = (k: number) => Math.fround(k < n >> 1 ? start + step * k : end - step * (n - 1 - k));
    const scale = Math.fround(decade);
    for (let k = 0; k < n - 1; k++) {
      const mean = Math.fround(point(k) + point(k + 1)) / 2;
      const code = Math.fround(scale * mean);
      codes.push(code, -code);
    }
  });
  return Float32Array.from(codes.sort((a, b) => a - b));
}

export interface Blockwise8BitOptions {
  /** Values per block, each with its own absmax (default 4096, bitsandbytes' default; QLoRA's nested absmax uses 256). */
  blockSize?: number;
  /** The 256 codes (default DYNAMIC_8BIT_MAP). */
  code?: Float32Array;
}

export interface Blockwise8BitQuantized {
  /** One code index per value. */
  quantized: Uint8Array;
  /** One float32 absmax per block. */
  absmax: Float32Array;
}

/**
 * bitsandbytes' `quantize_blockwise` (CUDA kernel semantics): each block is scaled by the float32 reciprocal of its
 * absmax and each value goes to the code its binary search over `code` lands on (`searchCode`).
 */
export function quantizeBlockwise8Bit(
  values: Float32Array,
  options: Blockwise8BitOptions = {},
): Blockwise8BitQuantized {
  const blockSize = options.blockSize ?? 4096;
  const code = options.code ?? DYNAMIC_8BIT_MAP;
  checkBlockSize(blockSize, "quantizeBlockwise8Bit");
  checkCode(code, "quantizeBlockwise8Bit");
  const quantized = new Uint8Array(values.length);
  const absmax = forEachAbsmaxBlock(values, blockSize, (start, end, scale) => {
    for (let i = start; i < end; i++) quantized[i] = searchCode(code, Math.fround(flushSubnormal(values[i]) * scale));
  });
  return { quantized, absmax };
}

/** bitsandbytes' `dequantize_blockwise`: code[q] · absmax in float32 (flushed to zero). */
export function dequantizeBlockwise8Bit(
  quantized: Uint8Array,
  absmax: Float32Array,
  options: Blockwise8BitOptions & { length?: number } = {},
): Float32Array {
  const blockSize = options.blockSize ?? 4096;
  const code = options.code ?? DYNAMIC_8BIT_MAP;
  const length = options.length ?? quantized.length;
  checkBlockSize(blockSize, "dequantizeBlockwise8Bit");
  checkCode(code, "dequantizeBlockwise8Bit");
  if (quantized.length !== length) {
    throw new ValidationError(`dequantizeBlockwise8Bit: expected ${length} code bytes, found ${quantized.length}`, {
      location: "quantized",
    });
  }
  if (absmax.length !== Math.ceil(length / blockSize)) {
    throw new ValidationError(
      `dequantizeBlockwise8Bit: ${length} values in blocks of ${blockSize} need ${Math.ceil(length / blockSize)} absmax values, found ${absmax.length}`,
      { location: "absmax" },
    );
  }
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++)
    out[i] = flushSubnormal(Math.fround(code[quantized[i]] * absmax[(i / blockSize) | 0]));
  return out;
}

/**
 * The kernel's search (dQuantize, not stochastic): seven halving steps from pivot 127 keep the codes bracketing x,
 * then x goes to the nearer of the last pivot and its bracketing neighbour, by the float32 midpoint of the two;
 * a value exactly at that midpoint stays on the pivot. NaN fails every comparison and lands on index 0.
 */
export function searchCode(code: Float32Array, x: number): number {
  let pivot = 127;
  let upperPivot = 255;
  let lowerPivot = 0;
  let lower = -1;
  let upper = 1;
  let val = code[pivot];
  for (let step = 64; step > 0; step >>= 1) {
    if (x > val) {
      lowerPivot = pivot;
      lower = val;
      pivot += step;
    } else {
      upperPivot = pivot;
      upper = val;
      pivot -= step;
    }
    val = code[pivot];
  }
  if (upperPivot === 255) upper = code[255];
  if (lowerPivot === 0) lower = code[0];
  if (x > val) return x > Math.fround(upper + val) * 0.5 ? upperPivot : pivot;
  return x < Math.fround(lower + val) * 0.5 ? lowerPivot : pivot;
}

function checkBlockSize(blockSize: number, where: string): void {
  if (!(BLOCKWISE_8BIT_BLOCK_SIZES as readonly number[]).includes(blockSize)) {
    throw new ValidationError(
      `${where}: blockSize must be one of ${BLOCKWISE_8BIT_BLOCK_SIZES.join(", ")} (as bitsandbytes), found ${blockSize}`,
      {
        location: "blockSize",
      },
    );
  }
}

function checkCode(code: Float32Array, where: string): void {
  if (code.length !== 256) {
    throw new ValidationError(`${where}: the code map must have 256 values, found ${code.length}`, {
      location: "code",
    });
  }
}
