// Tensor data as GGUF stores it: F32 and F16 little-endian (F16 rounded to nearest even, as numpy's astype), Q8_0 blocks.
import { ValidationError } from "../errors.js";
import { Q8_0_BLOCK_BYTES, Q8_0_BLOCK_SIZE, quantizeQ8_0 } from "../quantize/q8-0.js";
import { floatToHalf } from "../safetensors/dtypes.js";
import type { GgmlTensorType } from "./constants.js";

/** Bytes a tensor of `shape` (row-major) takes as `type`; Q8_0 needs rows (the last dimension) a multiple of 32. */
export function tensorByteSize(name: string, shape: readonly number[], type: GgmlTensorType): number {
  const count = shape.reduce((a, b) => a * b, 1);
  switch (type) {
    case "F32":
      return count * 4;
    case "F16":
      return count * 2;
    case "Q8_0": {
      const row = shape[shape.length - 1] ?? 1;
      if (row % Q8_0_BLOCK_SIZE !== 0) {
        throw new ValidationError(
          `GGUF tensor "${name}": Q8_0 needs rows of a multiple of ${Q8_0_BLOCK_SIZE} values, found rows of ${row} (shape [${shape.join(", ")}])`,
          { location: name },
        );
      }
      return (count / Q8_0_BLOCK_SIZE) * Q8_0_BLOCK_BYTES;
    }
  }
}

/** The bytes of `values` as `type`. */
export function encodeTensor(values: Float32Array, type: GgmlTensorType): Uint8Array {
  switch (type) {
    case "F32":
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    case "F16": {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]);
      return new Uint8Array(out.buffer);
    }
    case "Q8_0":
      return quantizeQ8_0(values);
  }
}
