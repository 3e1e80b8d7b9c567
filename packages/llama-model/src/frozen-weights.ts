import {
  FROZEN_WEIGHT_FORMATS,
  maxBindingBytes,
  packedWeightBytes,
  ValidationError,
  packWeightTensors,
  packedRowMultiple,
  PackedWeightWriter,
  type FrozenWeightFormat,
  type PackedWeight,
  type PackWeightOptions,
} from "@llamats/core";
import { LAYER_LINEARS } from "./parameter-shapes.js";

/**
 * How the frozen weights are held. Norms stay float32 in every format. The token embedding and an untied head are
 * packed for bfloat16 and int8 when each fits one binding (llama.cpp quantizes token_embd and output.weight), and stay
 * float32 for nf4 (QLoRA leaves embed_tokens and lm_head unquantized).
 */
export interface FrozenWeightsOptions {
  /**
   * The decoder layers' seven projections (and for bf16/int8 the embedding and head): float32 (default), bfloat16 (two
   * a 32-bit word), int8 (llama.cpp's Q8_0) or nf4 (bitsandbytes' NF4), packed one tensor at a time as they load; the
   * float32 model is never held whole.
   */
  weights?: FrozenWeightFormat;
  /** NF4 values per absmax (default 64). */
  nf4BlockSize?: number;
  /** NF4: QLoRA's double quantization of the absmax (default true, as QLoRA; the kernels read them as float32). */
  doubleQuant?: boolean;
}

const PACKED_NAME = new RegExp(
  `^model\\.layers\\.\\d+\\.(${LAYER_LINEARS.map((n) => n.replace(".", "\\.")).join("|")})\\.weight$`,
);

/** The weights option checked: a clear error for anything but the four formats. */
export function frozenWeightFormat(options: FrozenWeightsOptions): FrozenWeightFormat {
  const format = options.weights ?? "float32";
  if (!FROZEN_WEIGHT_FORMATS.includes(format)) {
    throw new ValidationError(
      `weights must be one of ${FROZEN_WEIGHT_FORMATS.join(", ")}, found "${String(format)}".`,
      { location: "weights" },
    );
  }
  return format;
}

/** The embedding or an untied head packed whole: bf16/int8 only, and only when one binding holds it (else float32 row chunks). */
function packsVocabTensor(format: FrozenWeightFormat, shape: readonly number[]): boolean {
  if (format !== "bfloat16" && format !== "int8") return false;
  if (shape[1] % packedRowMultiple(format) !== 0) return false;
  return packedWeightBytes({ format, outFeatures: shape[0], inFeatures: shape[1] }) <= maxBindingBytes();
}

/**
 * Whether the tensor `name` [out, in] is stored packed under these options: a projection (or the embedding or head,
 * see packsVocabTensor) whose rows are whole words and blocks of the format.
 */
export function isPackedParameter(name: string, shape: readonly number[], options: FrozenWeightsOptions): boolean {
  const format = frozenWeightFormat(options);
  if (format === "float32") return false;
  if (name === "lm_head.weight" || name === "model.embed_tokens.weight") return packsVocabTensor(format, shape);
  if (!PACKED_NAME.test(name)) return false;
  // Rows that are not whole blocks (e.g. an FFN of 172) keep this projection float32, as llama.cpp falls back.
  return shape[1] % packedRowMultiple(format, options.nf4BlockSize ?? 64) === 0;
}

/** How the parameter `name` [out, in] is packed under these options. */
function packOptions(name: string, shape: readonly number[], options: FrozenWeightsOptions): PackWeightOptions {
  const format = frozenWeightFormat(options);
  if (format === "float32") throw new ValidationError(`${name}: float32 weights are not packed.`, { location: name });
  return {
    format,
    outFeatures: shape[0],
    inFeatures: shape[1],
    nf4BlockSize: options.nf4BlockSize ?? 64,
    doubleQuant: options.doubleQuant ?? true,
    name,
  };
}

/** Packs one projection's float32 values onto the active backend (the values are the caller's to drop). */
export function packParameter(
  name: string,
  values: Float32Array,
  shape: readonly number[],
  options: FrozenWeightsOptions,
): PackedWeight {
  return packWeightTensors(values, packOptions(name, shape, options));
}

/**
 * A writer that packs one parameter a chunk of rows at a time (rows from packingRowChunks, in order), so its float32
 * values are never held whole; `packedWeightTensors(writer.finish())` puts it on the backend.
 */
export function parameterWriter(
  name: string,
  shape: readonly number[],
  options: FrozenWeightsOptions,
): PackedWeightWriter {
  return new PackedWeightWriter(packOptions(name, shape, options));
}
