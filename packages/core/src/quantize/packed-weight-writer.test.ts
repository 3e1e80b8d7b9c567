import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { halfToFloat } from "../safetensors/dtypes.js";
import { nf4BlockScales, quantizeNf4 } from "./nf4.js";
import { PackedWeightWriter, PackingScratch, packWeight, packingRowChunks } from "./packed-weight-writer.js";
import { float32ToBfloat16Bits, type PackWeightOptions } from "./packed-weight.js";
import { Q8_0_BLOCK_BYTES, Q8_0_BLOCK_SIZE, quantizeQ8_0 } from "./q8-0.js";

const OUT = 11;
const IN = 128;

/** Values with a spread of magnitudes per block (a few outliers), from a fixed LCG. */
function values(count: number, seed: number): Float32Array {
  let x = seed;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = (x / 2 ** 32 - 0.5) * (i % 37 === 0 ? 0.9 : 0.1);
  }
  return out;
}

/** The words and scales of the whole tensor, straight from this folder's fixture-checked quantizers. */
function reference(v: Float32Array, options: PackWeightOptions): { bytes: Uint8Array; scales: Float32Array } {
  if (options.format === "bfloat16") {
    const bits = float32ToBfloat16Bits(v);
    return { bytes: new Uint8Array(bits.buffer), scales: new Float32Array(0) };
  }
  if (options.format === "int8") {
    // GGUF blocks (fp16 d, 32 codes) split into the kernels' codes and widened scales.
    const blocks = quantizeQ8_0(v);
    const count = blocks.length / Q8_0_BLOCK_BYTES;
    const bytes = new Uint8Array(count * Q8_0_BLOCK_SIZE);
    const scales = new Float32Array(count);
    for (let b = 0; b < count; b++) {
      const at = b * Q8_0_BLOCK_BYTES;
      scales[b] = halfToFloat(blocks[at] | (blocks[at + 1] << 8));
      bytes.set(blocks.subarray(at + 2, at + Q8_0_BLOCK_BYTES), b * Q8_0_BLOCK_SIZE);
    }
    return { bytes, scales };
  }
  const q = quantizeNf4(v, { blockSize: options.nf4BlockSize ?? 64, doubleQuant: options.doubleQuant ?? false });
  return { bytes: q.packed, scales: nf4BlockScales(q.absmax) };
}

const CASES: [string, PackWeightOptions][] = [
  ["bfloat16", { format: "bfloat16", outFeatures: OUT, inFeatures: IN }],
  ["int8 (Q8_0)", { format: "int8", outFeatures: OUT, inFeatures: IN }],
  ["nf4", { format: "nf4", outFeatures: OUT, inFeatures: IN }],
  [
    "nf4, block 32, double quant",
    { format: "nf4", outFeatures: OUT, inFeatures: IN, nf4BlockSize: 32, doubleQuant: true },
  ],
];

describe("PackedWeightWriter", () => {
  it.each(CASES)("%s: rows packed in uneven chunks are byte for byte the whole tensor's", (_, options) => {
    const v = values(OUT * IN, 7);
    const want = reference(v, options);
    const scratch = new PackingScratch();
    const writer = new PackedWeightWriter(options);
    // Chunks of 3, 1, 4 and 3 rows through one reused buffer, as a loader reads them.
    for (const [start, end] of [
      [0, 3],
      [3, 4],
      [4, 8],
      [8, 11],
    ]) {
      const chunk = scratch.rowsOf((end - start) * IN);
      chunk.set(v.subarray(start * IN, end * IN));
      writer.writeRows(chunk);
      chunk.fill(Number.NaN); // the writer keeps nothing of a chunk
    }
    const got = writer.finish();
    expect(new Uint8Array(got.words.buffer, got.words.byteOffset, got.words.byteLength)).toEqual(want.bytes);
    expect(got.scales).toEqual(want.scales);
    const whole = packWeight(v, options);
    expect(whole.words).toEqual(got.words);
    expect(whole.scales).toEqual(got.scales);
  });

  it("refuses partial rows, rows past the end, and finishing early", () => {
    const options: PackWeightOptions = { format: "int8", outFeatures: 2, inFeatures: 32, name: "w" };
    const writer = new PackedWeightWriter(options);
    expect(() => writer.writeRows(new Float32Array(48))).toThrow(/w: expected whole rows of 32 values/);
    writer.writeRows(new Float32Array(32));
    expect(() => writer.finish()).toThrow(/w: 1 of 2 rows were written/);
    expect(() => writer.writeRows(new Float32Array(64))).toThrow(ValidationError);
    writer.writeRows(new Float32Array(32));
    expect(writer.finish().scales).toHaveLength(2);
    expect(() => new PackedWeightWriter({ ...options, inFeatures: 48 })).toThrow(/divisible by 32/);
  });

  it("packingRowChunks covers every row in order, each chunk within the byte budget (at least one row)", () => {
    expect(packingRowChunks(10, 4, 48)).toEqual([
      [0, 3],
      [3, 6],
      [6, 9],
      [9, 10],
    ]);
    expect(packingRowChunks(3, 100, 16)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    // TinyLlama's head: 32000 × 2048 float32 is 262 MB, packed from 16 MiB chunks of 2048 rows.
    const head = packingRowChunks(32000, 2048);
    expect(head).toHaveLength(16);
    expect(head[0]).toEqual([0, 2048]);
    expect(head.at(-1)).toEqual([30720, 32000]);
  });
});
