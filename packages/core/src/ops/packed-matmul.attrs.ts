import type * as tf from "@tensorflow/tfjs-core";

/** The attributes both kernels take: `format` is a PACKED_FORMAT_CODES number. */
export interface PackedMatMulAttrs {
  format: number;
  outFeatures: number;
  inFeatures: number;
  blockSize: number;
}

export function packedAttrs(attrs: tf.NamedAttrMap | undefined): PackedMatMulAttrs {
  const a = attrs as unknown as PackedMatMulAttrs;
  return { format: a.format, outFeatures: a.outFeatures, inFeatures: a.inFeatures, blockSize: a.blockSize };
}
