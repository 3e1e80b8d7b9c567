// NF4 (QLoRA's 4-bit NormalFloat) blockwise quantization, byte for byte as bitsandbytes' CUDA kernels
// (quantize_4bit / dequantize_4bit with quant_type="nf4", optionally compress_statistics=True).
import { ValidationError } from "../errors.js";
import { flushSubnormal, forEachAbsmaxBlock } from "./cuda-float.js";
import { DYNAMIC_8BIT_MAP, dequantizeBlockwise8Bit, quantizeBlockwise8Bit } from "./dynamic-8bit.js";

/** The 16 NF4 code values, in code-index order (bitsandbytes' `nf4_dequantization_lut`; all exact float32). */
export const NF4_CODE: Float32Array = Float32Array.of(
  -1.0,
  -0.6961928009986877,
  -0.5250730514526367,
  -0.39491748809814453,
  -0.28444138169288635,
  -0.18477343022823334,
  -0.09105003625154495,
  0.0,
  0.07958029955625534,
  0.16093020141124725,
  0.24611230194568634,
  0.33791524171829224,
  0.44070982933044434,
  0.5626170039176941,
  0.7229568362236023,
  1.0,
);

/**
 * The 15 decision thresholds of bitsandbytes' `dQuantizeNF4`: threshold k separates codes k and k+1 and is the
 * float32 rounding of their midpoint. A scaled value goes to code k+1 only when strictly greater than threshold k,
 * so a value exactly at a midpoint takes the lower code.
 */
export const NF4_THRESHOLDS: Float32Array = Float32Array.from(
  { length: 15 },
  (_, k) => (NF4_CODE[k] + NF4_CODE[k + 1]) / 2,
);

const [T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14] = NF4_THRESHOLDS;

// A block whose absmax is at least this needs no flush-to-zero emulation (see quantizeNf4).
const NO_FLUSH_ABSMAX = 2 ** -60;

/** NF4 block sizes bitsandbytes takes (`quantize_4bit`'s blocksize). */
export const NF4_BLOCK_SIZES = [32, 64, 128, 256, 512, 1024, 2048, 4096] as const;
/** Block size of the 8-bit quantization of the absmax values under double quantization (bitsandbytes' and QLoRA's). */
const NF4_NESTED_BLOCK_SIZE = 256;

/**
 * Double-quantized absmax (QLoRA): the per-block absmax values minus their mean `offset`, quantized with bitsandbytes'
 * 8-bit dynamic map in blocks of `blockSize`. In a bitsandbytes state dict these are `absmax` (uint8, `quantized`),
 * `nested_absmax`, `nested_offset`, `nested_blocksize` and `nested_quant_map` (`code`).
 */
export interface Nf4NestedAbsmax {
  quantized: Uint8Array;
  absmax: Float32Array;
  offset: number;
  blockSize: number;
  code: Float32Array;
}

export interface Nf4Quantized<A extends Float32Array | Nf4NestedAbsmax = Float32Array | Nf4NestedAbsmax> {
  /** Two codes a byte, the first value in the high nibble; an odd length pads the last low nibble. */
  packed: Uint8Array;
  /** One float32 absmax a block, or their double-quantized form. */
  absmax: A;
  blockSize: number;
  /** Number of values quantized. */
  length: number;
}

export interface Nf4QuantizeOptions {
  /** Values per block (default 64, bitsandbytes' default). */
  blockSize?: number;
  /** Quantize the absmax values too, as QLoRA does (bitsandbytes' compress_statistics). */
  doubleQuant?: boolean;
}

/**
 * NF4-quantizes `values` as bitsandbytes' CUDA `quantize_4bit(quant_type="nf4")` does: per block the absmax of |x|
 * (a last partial block has its own), each value times the float32 reciprocal of it, then the code `dQuantizeNF4`'s
 * threshold tree picks. Edge cases follow the kernel: a block of zeros has absmax 0 and all codes 0 (−1·0);
 * NaN is left out of the absmax and gets code 0; ±Infinity makes the absmax Infinity, so the block's finite values
 * get code 7 (back as 0·Infinity = NaN) and the infinities code 0 (back as −Infinity); a block of NaN only has absmax
 * −FLT_MAX; subnormals count as 0 (the kernels are built with fast math, which flushes them).
 */
export function quantizeNf4(
  values: Float32Array,
  options: Nf4QuantizeOptions & { doubleQuant: true },
): Nf4Quantized<Nf4NestedAbsmax>;
export function quantizeNf4(
  values: Float32Array,
  options?: Nf4QuantizeOptions & { doubleQuant?: false },
): Nf4Quantized<Float32Array>;
export function quantizeNf4(values: Float32Array, options?: Nf4QuantizeOptions): Nf4Quantized;
export function quantizeNf4(values: Float32Array, options: Nf4QuantizeOptions = {}): Nf4Quantized {
  const blockSize = options.blockSize ?? 64;
  checkNf4BlockSize(blockSize, "quantizeNf4");
  const n = values.length;
  const packed = new Uint8Array((n + 1) >> 1);
  const absmax = forEachAbsmaxBlock(values, blockSize, (start, end, scale, max) => {
    // Blocks start at even indices (block sizes are even), so a byte never straddles two blocks.
    const pairsEnd = start + ((end - start) & ~1);
    if (max >= NO_FLUSH_ABSMAX) {
      // |x| ≤ absmax: a subnormal x scales to under 2^-26 in magnitude, code 7 whether flushed or not.
      for (let i = start; i < pairsEnd; i += 2) {
        packed[i >> 1] =
          (nf4Bucketed(Math.fround(values[i] * scale)) << 4) | nf4Bucketed(Math.fround(values[i + 1] * scale));
      }
    } else {
      for (let i = start; i < pairsEnd; i += 2) {
        const hi = nf4Index(Math.fround(flushSubnormal(values[i]) * scale));
        packed[i >> 1] = (hi << 4) | nf4Index(Math.fround(flushSubnormal(values[i + 1]) * scale));
      }
    }
    // An odd last value pairs with the kernel's zero padding, which is scaled and quantized like any value.
    if (pairsEnd < end)
      packed[pairsEnd >> 1] =
        (nf4Index(Math.fround(flushSubnormal(values[pairsEnd]) * scale)) << 4) | nf4Index(0 * scale);
  });
  if (!options.doubleQuant) return { packed, absmax, blockSize, length: n };
  return { packed, absmax: quantizeAbsmax(absmax), blockSize, length: n };
}

export interface Nf4DequantizeOptions {
  /** Values per block (default 64). */
  blockSize?: number;
  /** Number of values to return (the length that was quantized). */
  length: number;
}

/** The inverse of quantizeNf4, as bitsandbytes' `dequantize_4bit` computes it: NF4_CODE[q] · absmax in float32. */
export function dequantizeNf4(
  packed: Uint8Array,
  absmax: Float32Array | Nf4NestedAbsmax,
  options: Nf4DequantizeOptions,
): Float32Array {
  const blockSize = options.blockSize ?? 64;
  const { length } = options;
  checkNf4BlockSize(blockSize, "dequantizeNf4");
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new ValidationError(`dequantizeNf4: length must be a non-negative integer, found ${length}`, {
      location: "length",
    });
  }
  if (packed.length !== (length + 1) >> 1) {
    throw new ValidationError(
      `dequantizeNf4: ${length} values need ${(length + 1) >> 1} packed bytes, found ${packed.length}`,
      {
        location: "packed",
      },
    );
  }
  const blocks = Math.ceil(length / blockSize);
  const scales = absmax instanceof Float32Array ? absmax : dequantizeAbsmax(absmax);
  if (scales.length !== blocks) {
    throw new ValidationError(
      `dequantizeNf4: ${length} values in blocks of ${blockSize} need ${blocks} absmax values, found ${scales.length}`,
      {
        location: "absmax",
      },
    );
  }
  const out = new Float32Array(length);
  const table = new Float32Array(16);
  for (let b = 0; b < blocks; b++) {
    const scale = scales[b];
    for (let q = 0; q < 16; q++) table[q] = flushSubnormal(Math.fround(NF4_CODE[q] * scale));
    const start = b * blockSize;
    const end = Math.min(length, start + blockSize);
    const pairsEnd = start + ((end - start) & ~1);
    for (let i = start; i < pairsEnd; i += 2) {
      const byte = packed[i >> 1];
      out[i] = table[byte >> 4];
      out[i + 1] = table[byte & 15];
    }
    if (pairsEnd < end) out[pairsEnd] = table[packed[pairsEnd >> 1] >> 4];
  }
  return out;
}

/**
 * The code `dQuantizeNF4` gives a scaled value: bitsandbytes' binary tree of strict `>` comparisons against the
 * thresholds (NaN fails them all: code 0).
 */
export function nf4Index(x: number): number {
  if (x > T7) {
    if (x > T11) {
      if (x > T13) return x > T14 ? 15 : 14;
      return x > T12 ? 13 : 12;
    }
    if (x > T9) return x > T10 ? 11 : 10;
    return x > T8 ? 9 : 8;
  }
  if (x > T3) {
    if (x > T5) return x > T6 ? 7 : 6;
    return x > T4 ? 5 : 4;
  }
  if (x > T1) return x > T2 ? 3 : 2;
  return x > T0 ? 1 : 0;
}

// nf4Index by table, for the hot loop: [−1, 1] cut into 256 buckets, each holding at most one threshold (they are
// 0.08 apart, no bucket edge is a threshold). A bucket gives the code at its lower edge, plus one past its threshold.
// Rounding in (x + 1) · 128 can move x across a bucket edge only when no threshold lies between x and that edge.
const BUCKETS = 256;
const BUCKET_CODE = new Uint8Array(BUCKETS);
const BUCKET_THRESHOLD = new Float64Array(BUCKETS).fill(Number.POSITIVE_INFINITY);
for (let j = 0; j < BUCKETS; j++) {
  const low = j / 128 - 1;
  const high = (j + 1) / 128 - 1;
  for (const t of NF4_THRESHOLDS) {
    if (t < low) BUCKET_CODE[j]++;
    else if (t < high) BUCKET_THRESHOLD[j] = t;
  }
}

/** Same codes as nf4Index (NaN → 0, beyond ±1 → 0 or 15), with one mostly predictable branch. */
export function nf4Bucketed(x: number): number {
  const t = (x + 1) * 128;
  const j = t >= 0 ? (t < BUCKETS ? t | 0 : BUCKETS - 1) : 0;
  return BUCKET_CODE[j] + (x > BUCKET_THRESHOLD[j] ? 1 : 0);
}

/**
 * QLoRA's double quantization as bitsandbytes' quantize_4bit(compress_statistics=True) does it: offset = mean of the
 * absmax values (here the float64 mean rounded to float32; bitsandbytes' float32 CUDA reduction may differ in the
 * last bit), then absmax − offset in float32, 8-bit blockwise-quantized in blocks of 256 with the dynamic map.
 */
function quantizeAbsmax(absmax: Float32Array): Nf4NestedAbsmax {
  let sum = 0;
  for (let i = 0; i < absmax.length; i++) sum += absmax[i];
  const offset = absmax.length ? Math.fround(sum / absmax.length) : 0;
  const centred = new Float32Array(absmax.length);
  for (let i = 0; i < absmax.length; i++) centred[i] = absmax[i] - offset;
  const nested = quantizeBlockwise8Bit(centred, { blockSize: NF4_NESTED_BLOCK_SIZE });
  return {
    quantized: nested.quantized,
    absmax: nested.absmax,
    offset,
    blockSize: NF4_NESTED_BLOCK_SIZE,
    code: DYNAMIC_8BIT_MAP.slice(),
  };
}

/** Each block's float32 absmax: as given, or with QLoRA's double quantization undone (what dequantizeNf4 scales by). */
export function nf4BlockScales(absmax: Float32Array | Nf4NestedAbsmax): Float32Array {
  return absmax instanceof Float32Array ? absmax : dequantizeAbsmax(absmax);
}

/** The float32 absmax a block scales by after QLoRA's double quantization of `absmax` (its quantize-then-dequantize). */
export function nf4DoubleQuantizedScales(absmax: Float32Array): Float32Array {
  return dequantizeAbsmax(quantizeAbsmax(absmax));
}

/** bitsandbytes' dequantize_4bit for a nested state: dequantize_blockwise(absmax) + offset, in float32. */
function dequantizeAbsmax(nested: Nf4NestedAbsmax): Float32Array {
  const absmax = dequantizeBlockwise8Bit(nested.quantized, nested.absmax, {
    blockSize: nested.blockSize,
    code: nested.code,
  });
  const offset = Math.fround(nested.offset);
  for (let i = 0; i < absmax.length; i++) absmax[i] += offset;
  return absmax;
}

function checkNf4BlockSize(blockSize: number, where: string): void {
  if (!(NF4_BLOCK_SIZES as readonly number[]).includes(blockSize)) {
    throw new ValidationError(
      `${where}: blockSize must be one of ${NF4_BLOCK_SIZES.join(", ")} (as bitsandbytes), found ${blockSize}`,
      {
        location: "blockSize",
      },
    );
  }
}
