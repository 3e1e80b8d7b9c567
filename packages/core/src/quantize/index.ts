export { quantizeNf4, dequantizeNf4, NF4_CODE, NF4_THRESHOLDS, NF4_BLOCK_SIZES } from "./nf4.js";
export type { Nf4Quantized, Nf4NestedAbsmax, Nf4QuantizeOptions, Nf4DequantizeOptions } from "./nf4.js";
export { quantizeBlockwise8Bit, dequantizeBlockwise8Bit, DYNAMIC_8BIT_MAP } from "./dynamic-8bit.js";
export type { Blockwise8BitOptions, Blockwise8BitQuantized } from "./dynamic-8bit.js";
export { quantizeQ8_0, dequantizeQ8_0, Q8_0_BLOCK_SIZE, Q8_0_BLOCK_BYTES } from "./q8-0.js";
export { packWeight, PackedWeightWriter, PackingScratch, packingRowChunks } from "./packed-weight-writer.js";
export {
  unpackWeight,
  packedWeightBytes,
  packedRowMultiple,
  float32ToBfloat16Bits,
  FROZEN_WEIGHT_FORMATS,
  PACKED_FORMAT_CODES,
} from "./packed-weight.js";
export type {
  FrozenWeightFormat,
  PackedFormat,
  PackedWeightShape,
  PackedWeightData,
  PackWeightOptions,
} from "./packed-weight.js";
