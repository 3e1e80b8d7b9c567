// Packs a frozen weight a few rows at a time, so a loader never holds the whole float32 tensor: Q8_0 and NF4 blocks
// and bf16 pairs never straddle two rows (in-features are a multiple of the block), so the words and scales are the
// ones packing the whole tensor at once gives, byte for byte.
import { ValidationError } from "../errors.js";
import { halfToFloat } from "../safetensors/dtypes.js";
import { nf4DoubleQuantizedScales, quantizeNf4 } from "./nf4.js";
import {
  float32ToBfloat16Into,
  packedRowMultiple,
  type PackWeightOptions,
  type PackedWeightData,
} from "./packed-weight.js";
import { Q8_0_BLOCK_SIZE, quantizeQ8_0Block } from "./q8-0.js";

/** Float32 bytes a chunk of rows may take while packing (16 MiB: small beside any weight worth packing). */
const PACKING_CHUNK_BYTES = 16 * 2 ** 20;

/**
 * One float32 buffer for a chunk of rows, reused from chunk to chunk and tensor to tensor while a model loads, so
 * reading or drawing the rows leaves no garbage behind. (The packed words are not reused: cpu and webgpu tensors
 * keep the array they are made from.)
 */
export class PackingScratch {
  private rows = new Float32Array(0);

  /** A view of `length` floats, valid until the next call. */
  rowsOf(length: number): Float32Array {
    if (this.rows.length < length) this.rows = new Float32Array(length);
    return this.rows.subarray(0, length);
  }
}

/** [start, end) row ranges of at most `maxChunkBytes` float32 each (at least one row a chunk), in order. */
export function packingRowChunks(
  outFeatures: number,
  inFeatures: number,
  maxChunkBytes = PACKING_CHUNK_BYTES,
): [number, number][] {
  const per = Math.max(1, Math.floor(maxChunkBytes / (inFeatures * 4)));
  const chunks: [number, number][] = [];
  for (let start = 0; start < outFeatures; start += per) chunks.push([start, Math.min(outFeatures, start + per)]);
  return chunks;
}

/** Writes a packed weight's rows in order (writeRows), then hands it over (finish). */
export class PackedWeightWriter {
  private readonly words: Int32Array;
  /** Q8_0's d widened, or NF4's absmax before any double quantization. */
  private readonly scales: Float32Array;
  private readonly blockSize: number;
  private readonly where: string;
  private rowsWritten = 0;

  constructor(private readonly options: PackWeightOptions) {
    const { format, outFeatures, inFeatures } = options;
    this.where = options.name ?? "packWeight";
    this.blockSize = format === "bfloat16" ? 0 : format === "int8" ? Q8_0_BLOCK_SIZE : (options.nf4BlockSize ?? 64);
    const multiple = packedRowMultiple(format, options.nf4BlockSize);
    if (!(Number.isSafeInteger(outFeatures) && outFeatures > 0 && Number.isSafeInteger(inFeatures) && inFeatures > 0)) {
      throw new ValidationError(
        `${this.where}: expected positive integer out/in features, found ${outFeatures} × ${inFeatures}`,
        { location: this.where },
      );
    }
    if (inFeatures % multiple !== 0) {
      throw new ValidationError(
        `${this.where}: ${format} packing needs in-features divisible by ${multiple} (whole blocks per row), found ${inFeatures}; keep this weight float32`,
        { location: this.where },
      );
    }
    const n = outFeatures * inFeatures;
    const wordCount = format === "bfloat16" ? n / 2 : format === "int8" ? n / 4 : n / 8;
    const scaleCount = this.blockSize ? n / this.blockSize : 0;
    this.words = new Int32Array(wordCount);
    this.scales = new Float32Array(scaleCount);
  }

  /** Packs the next whole rows (row-major float32 values); `values` is read, never kept. */
  writeRows(values: Float32Array): void {
    const { format, outFeatures, inFeatures } = this.options;
    const rows = values.length / inFeatures;
    if (!Number.isInteger(rows) || this.rowsWritten + rows > outFeatures) {
      throw new ValidationError(
        `${this.where}: expected whole rows of ${inFeatures} values, at most ${outFeatures - this.rowsWritten} more rows of ${outFeatures}, found ${values.length} values`,
        { location: this.where },
      );
    }
    const first = this.rowsWritten * inFeatures;
    const { words, scales } = this;
    if (format === "bfloat16") {
      float32ToBfloat16Into(values, new Uint16Array(words.buffer, words.byteOffset, words.length * 2), first);
    } else if (format === "int8") {
      const codes = new Int8Array(words.buffer, words.byteOffset, words.byteLength);
      for (let start = 0; start < values.length; start += Q8_0_BLOCK_SIZE) {
        const block = (first + start) / Q8_0_BLOCK_SIZE;
        scales[block] = halfToFloat(quantizeQ8_0Block(values, start, codes, first + start, block));
      }
    } else {
      const q = quantizeNf4(values, { blockSize: this.blockSize });
      new Uint8Array(words.buffer, words.byteOffset, words.byteLength).set(q.packed, first / 2);
      scales.set(q.absmax, first / this.blockSize);
    }
    this.rowsWritten += rows;
  }

  /** The packed weight, once every row is written. */
  finish(): PackedWeightData {
    const { format, outFeatures, inFeatures } = this.options;
    if (this.rowsWritten !== outFeatures) {
      throw new ValidationError(`${this.where}: ${this.rowsWritten} of ${outFeatures} rows were written`, {
        location: this.where,
      });
    }
    const scales = format === "nf4" && this.options.doubleQuant ? nf4DoubleQuantizedScales(this.scales) : this.scales;
    return { format, outFeatures, inFeatures, blockSize: this.blockSize, words: this.words, scales };
  }
}

/** Packs a float32 [out, in] weight whole (see PackedWeightWriter to pack it a few rows at a time). */
export function packWeight(values: Float32Array, options: PackWeightOptions): PackedWeightData {
  const where = options.name ?? "packWeight";
  const { outFeatures, inFeatures } = options;
  if (values.length !== outFeatures * inFeatures) {
    throw new ValidationError(
      `${where}: expected ${outFeatures} × ${inFeatures} = ${outFeatures * inFeatures} values, found ${values.length}`,
      { location: where },
    );
  }
  const writer = new PackedWeightWriter(options);
  writer.writeRows(values);
  return writer.finish();
}
