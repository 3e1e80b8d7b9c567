// GGUF's Q8_0: blocks of 32 values as an fp16 scale and 32 int8, bit-identical to llama.cpp's reference quantizer
// (quantize_row_q8_0_ref, which `llama-quantize` and ggml_quantize_chunk use), so a GGUF writer can copy the bytes.
import { ValidationError } from "../errors.js";
import { floatToHalf, halfToFloat } from "../safetensors/dtypes.js";

/** Values per Q8_0 block (ggml's QK8_0). */
export const Q8_0_BLOCK_SIZE = 32;
/** Bytes per Q8_0 block: fp16 d (little-endian), then 32 int8. */
export const Q8_0_BLOCK_BYTES = 34;

/**
 * Q8_0-quantizes `values`, block by block as quantize_row_q8_0_ref: amax = max |x|, d = amax / 127 and
 * id = d ? 1/d : 0 in float32, q = roundf(x · id) (halves away from zero), d stored as fp16 rounded to nearest even.
 * A length that is not a multiple of 32 is padded with zeros (which leave amax alone); a GGUF tensor's rows are
 * multiples of 32, so quantizing a whole matrix gives the same blocks as quantizing it row by row.
 * NaN or ±Infinity, and an amax too large for an fp16 d (≥ 65520·127), throw a ValidationError: llama.cpp would
 * write a block its own loader rejects.
 */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  const blocks = Math.ceil(values.length / Q8_0_BLOCK_SIZE);
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const qs = new Int8Array(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const at = b * Q8_0_BLOCK_BYTES;
    const half = quantizeQ8_0Block(values, b * Q8_0_BLOCK_SIZE, qs, at + 2, b);
    out[at] = half & 0xff;
    out[at + 1] = half >>> 8;
  }
  return out;
}

/**
 * One Q8_0 block, as quantizeQ8_0 describes: the up to 32 values from `start` go to `codes` from `codeAt`, and the
 * fp16 bits of d are returned. The block layout is the caller's (GGUF interleaves d and codes; the packed-matmul
 * kernels keep them apart); `block` numbers the block in errors.
 */
export function quantizeQ8_0Block(
  values: Float32Array,
  start: number,
  codes: Int8Array,
  codeAt: number,
  block: number,
): number {
  const end = Math.min(values.length, start + Q8_0_BLOCK_SIZE);
  let amax = 0;
  // Math.max carries a NaN through, so one check after the loop catches NaN and ±Infinity.
  for (let i = start; i < end; i++) amax = Math.max(amax, Math.abs(values[i]));
  if (!(amax <= 3.4028234663852886e38)) throwNonFinite(values, start, end);
  const d = Math.fround(amax / 127);
  const id = d !== 0 ? Math.fround(1 / d) : 0;
  const half = floatToHalf(d);
  if ((half & 0x7fff) === 0x7c00) {
    throw new ValidationError(
      `quantizeQ8_0: block ${block} (values ${start}..${end - 1}) has max |x| = ${amax}, beyond Q8_0's fp16 scale (d = ${d})`,
      { location: `values[${start}..${end - 1}]` },
    );
  }
  for (let i = start, k = codeAt; i < end; i++, k++) {
    const x = Math.fround(values[i] * id);
    // roundf rounds halves away from zero: floor(x + 0.5) (exact in double), less one at a negative half.
    // Branching on the sign instead mispredicts on every other value and takes twice as long.
    const r = Math.floor(x + 0.5);
    codes[k] = r - x === 0.5 && x < 0 ? r - 1 : r;
  }
  // A short last block leaves its padding codes 0, as quantizing the zeros would.
  for (let k = codeAt + end - start; k < codeAt + Q8_0_BLOCK_SIZE && k < codes.length; k++) codes[k] = 0;
  return half;
}

function throwNonFinite(values: Float32Array, start: number, end: number): never {
  let i = start;
  while (i < end - 1 && Number.isFinite(values[i])) i++;
  throw new ValidationError(`quantizeQ8_0: value ${i} is ${values[i]}; Q8_0 holds finite values only`, {
    location: `values[${i}]`,
  });
}

/** The inverse of quantizeQ8_0 (ggml's dequantize_row_q8_0): q · d, exact in float32. */
export function dequantizeQ8_0(bytes: Uint8Array, length: number): Float32Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new ValidationError(`dequantizeQ8_0: length must be a non-negative integer, found ${length}`, {
      location: "length",
    });
  }
  const blocks = Math.ceil(length / Q8_0_BLOCK_SIZE);
  if (bytes.length !== blocks * Q8_0_BLOCK_BYTES) {
    throw new ValidationError(
      `dequantizeQ8_0: ${length} values need ${blocks} blocks of ${Q8_0_BLOCK_BYTES} bytes (${blocks * Q8_0_BLOCK_BYTES}), found ${bytes.length} bytes`,
      {
        location: "bytes",
      },
    );
  }
  const qs = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(length);
  for (let b = 0; b < blocks; b++) {
    const at = b * Q8_0_BLOCK_BYTES;
    const d = halfToFloat(bytes[at] | (bytes[at + 1] << 8));
    const start = b * Q8_0_BLOCK_SIZE;
    const end = Math.min(length, start + Q8_0_BLOCK_SIZE);
    for (let i = start; i < end; i++) out[i] = qs[at + 2 + i - start] * d;
  }
  return out;
}
