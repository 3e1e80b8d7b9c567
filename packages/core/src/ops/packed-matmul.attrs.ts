import type * as tf from "@tensorflow/tfjs-core";

/** The attributes both kernels take: `format` is a PACKED_FORMAT_CODES number. */
export interface PackedMatMulAttrs {
  format: number;
  outFeatures: number;
  inFeatures: number;
  blockSize: number;
  /** 1: int8 weights multiply int8-quantized activations (llama.cpp's q8_0 × q8_0 dot; decoding on cpu and wasm). */
  quantizeActivations: number;
}

export function packedAttrs(attrs: tf.NamedAttrMap | undefined): PackedMatMulAttrs {
  const a = attrs as unknown as PackedMatMulAttrs;
  return {
    format: a.format,
    outFeatures: a.outFeatures,
    inFeatures: a.inFeatures,
    blockSize: a.blockSize,
    quantizeActivations: a.quantizeActivations ?? 0,
  };
}
