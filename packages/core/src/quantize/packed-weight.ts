// A frozen linear weight [outFeatures, inFeatures] packed into 32-bit words for the packed-matmul kernels, which
// unpack it as they multiply: bf16 (two a word), Q8_0 (four int8 a word, a float32 scale per 32) or NF4 (eight
// nibbles a word, a float32 absmax per block). The byte layouts are those of the quantizers in this folder.
import { floatToHalf } from "../safetensors/dtypes.js";
import { dequantizeNf4 } from "./nf4.js";
import { Q8_0_BLOCK_BYTES, Q8_0_BLOCK_SIZE, dequantizeQ8_0 } from "./q8-0.js";

/** How a frozen weight is stored: float32 as is, bfloat16, llama.cpp's Q8_0 ("int8") or bitsandbytes' NF4. */
export type FrozenWeightFormat = "float32" | "bfloat16" | "int8" | "nf4";
export const FROZEN_WEIGHT_FORMATS: readonly FrozenWeightFormat[] = ["float32", "bfloat16", "int8", "nf4"];
/** The packed formats (the kernels' `format` attribute), by the number the C and WGSL kernels switch on. */
export const PACKED_FORMAT_CODES = { bfloat16: 1, int8: 2, nf4: 3 } as const;
export type PackedFormat = keyof typeof PACKED_FORMAT_CODES;

export interface PackedWeightShape {
  format: PackedFormat;
  outFeatures: number;
  inFeatures: number;
  /** Values per scale: 32 for int8 (Q8_0), the NF4 block size for nf4, 0 for bfloat16. */
  blockSize: number;
}

/** A packed weight on the host: `words` hold the codes of the row-major [out, in] values, little-endian. */
export interface PackedWeightData extends PackedWeightShape {
  words: Int32Array;
  /** One float32 scale a block (Q8_0's fp16 d widened, or NF4's absmax, double quantization undone); empty for bf16. */
  scales: Float32Array;
}

export interface PackWeightOptions {
  format: PackedFormat;
  outFeatures: number;
  inFeatures: number;
  /** NF4 values per absmax (default 64, bitsandbytes' default). */
  nf4BlockSize?: number;
  /** NF4: quantize the absmax values too, as QLoRA does (the kernels read them back as float32). */
  doubleQuant?: boolean;
  /** Names the tensor in errors. */
  name?: string;
}

/** The input-feature multiple each format needs, so that a row is whole words and whole blocks. */
export function packedRowMultiple(format: PackedFormat, nf4BlockSize = 64): number {
  return format === "bfloat16" ? 2 : format === "int8" ? Q8_0_BLOCK_SIZE : nf4BlockSize;
}

/** Bytes a packed weight takes (words and scales), for memory estimates before loading. */
export function packedWeightBytes(shape: Omit<PackedWeightShape, "blockSize">, nf4BlockSize = 64): number {
  const n = shape.outFeatures * shape.inFeatures;
  if (shape.format === "bfloat16") return n * 2;
  if (shape.format === "int8") return n + (n / Q8_0_BLOCK_SIZE) * 4;
  return n / 2 + (n / nf4BlockSize) * 4;
}

/** float32 → bfloat16 bits, rounded to nearest even as torch's `.to(torch.bfloat16)` (NaN stays a quiet NaN). */
export function float32ToBfloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  float32ToBfloat16Into(values, out, 0);
  return out;
}

/** float32ToBfloat16Bits written into `out` from `at`, for packing a weight a few rows at a time. */
export function float32ToBfloat16Into(values: Float32Array, out: Uint16Array, at: number): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0, k = at; i < bits.length; i++, k++) {
    const b = bits[i];
    if ((b & 0x7fffffff) > 0x7f800000) out[k] = (b >>> 16) | 0x40;
    else out[k] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
}

/**
 * The float32 values a packed weight stands for, through this folder's reference dequantizers (dequantizeQ8_0,
 * dequantizeNf4): what the kernels must agree with, and what merging a LoRA into a packed base starts from.
 */
export function unpackWeight(p: PackedWeightData): Float32Array {
  const n = p.outFeatures * p.inFeatures;
  const bytes = new Uint8Array(p.words.buffer, p.words.byteOffset, p.words.byteLength);
  if (p.format === "bfloat16") {
    const out = new Float32Array(n);
    const bits = new Uint32Array(out.buffer);
    const half = new Uint16Array(p.words.buffer, p.words.byteOffset, n);
    for (let i = 0; i < n; i++) bits[i] = half[i] << 16;
    return out;
  }
  if (p.format === "int8") {
    const blocks = new Uint8Array(p.scales.length * Q8_0_BLOCK_BYTES);
    for (let b = 0; b < p.scales.length; b++) {
      const d = floatToHalf(p.scales[b]);
      const at = b * Q8_0_BLOCK_BYTES;
      blocks[at] = d & 0xff;
      blocks[at + 1] = d >>> 8;
      blocks.set(bytes.subarray(b * Q8_0_BLOCK_SIZE, (b + 1) * Q8_0_BLOCK_SIZE), at + 2);
    }
    return dequantizeQ8_0(blocks, n);
  }
  return dequantizeNf4(bytes, p.scales, { blockSize: p.blockSize, length: n });
}
