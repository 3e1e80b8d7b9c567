import { writeFileAtomic } from "../atomic-write.js";
import { SafetensorsError } from "../errors.js";
import { DTYPE_BYTES, floatToHalf, type SafetensorsDtype, type TensorData } from "./dtypes.js";

export interface TensorToWrite {
  shape: readonly number[];
  data: TensorData | readonly number[];
  /** Stored dtype; defaults to F32 for float data, I32/I64 for integer arrays. F16 and BF16 are converted from float. */
  dtype?: SafetensorsDtype;
}

const bf16Scratch = new Float32Array(1);
const bf16Bits = new Uint32Array(bf16Scratch.buffer);

function defaultDtype(data: TensorToWrite["data"]): SafetensorsDtype {
  if (data instanceof Int32Array) return "I32";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof Uint8Array) return "U8";
  if (data instanceof Float64Array) return "F64";
  return "F32";
}

function checkTensor(name: string, tensor: TensorToWrite): number {
  if (name === "__metadata__")
    throw new SafetensorsError(`"__metadata__" is reserved for the header's metadata and cannot name a tensor.`, {
      tensor: name,
    });
  if (!tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(
      `tensor "${name}": shape must be non-negative integers, got [${tensor.shape.join(", ")}].`,
      { tensor: name },
    );
  }
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== count) {
    throw new SafetensorsError(
      `tensor "${name}": shape [${tensor.shape.join(", ")}] holds ${count} values but ${tensor.data.length} were given.`,
      {
        tensor: name,
      },
    );
  }
  return count;
}

function encode(name: string, tensor: TensorToWrite, dtype: SafetensorsDtype): Uint8Array {
  const count = checkTensor(name, tensor);
  const out = new Uint8Array(count * DTYPE_BYTES[dtype]);
  const view = new DataView(out.buffer);
  const values = tensor.data;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    switch (dtype) {
      case "F32":
        view.setFloat32(i * 4, Number(v), true);
        break;
      case "F64":
        view.setFloat64(i * 8, Number(v), true);
        break;
      case "F16":
        view.setUint16(i * 2, floatToHalf(Number(v)), true);
        break;
      case "BF16": {
        // Round to nearest even on the upper 16 bits, as torch does.
        bf16Scratch[0] = Number(v);
        const bits = bf16Bits[0];
        const rounded = Number.isNaN(bf16Scratch[0]) ? 0x7fc0 : ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
        view.setUint16(i * 2, rounded, true);
        break;
      }
      case "I64":
        view.setBigInt64(i * 8, BigInt(v), true);
        break;
      case "U64":
        view.setBigUint64(i * 8, BigInt(v), true);
        break;
      case "I32":
        view.setInt32(i * 4, Number(v), true);
        break;
      case "U32":
        view.setUint32(i * 4, Number(v), true);
        break;
      case "I16":
        view.setInt16(i * 2, Number(v), true);
        break;
      case "U16":
        view.setUint16(i * 2, Number(v), true);
        break;
      case "I8":
        view.setInt8(i, Number(v));
        break;
      case "U8":
      case "BOOL":
        view.setUint8(i, Number(v));
        break;
    }
  }
  return out;
}

/**
 * The file's chunks: length prefix, header, then each tensor's bytes, encoded only when the chunk is asked for,
 * so a large model is never held twice in memory. Shapes and lengths are all checked before the first chunk.
 */
function* safetensorsChunks(
  tensors: Record<string, TensorToWrite>,
  metadata: Record<string, string> | undefined,
): Generator<Uint8Array> {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const names = Object.keys(tensors).sort();
  const dtypes = new Map<string, SafetensorsDtype>();
  let offset = 0;
  for (const name of names) {
    const tensor = tensors[name];
    const dtype = tensor.dtype ?? defaultDtype(tensor.data);
    const bytes = checkTensor(name, tensor) * DTYPE_BYTES[dtype];
    dtypes.set(name, dtype);
    header[name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.byteLength), 0);
  yield prefix;
  yield headerBytes;
  for (const name of names) yield encode(name, tensors[name], dtypes.get(name) as SafetensorsDtype);
}

/** Serializes tensors to safetensors bytes (header padded to 8 bytes, tensors in name order). */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite>,
  options: { metadata?: Record<string, string> } = {},
): Uint8Array[] {
  return [...safetensorsChunks(tensors, options.metadata)];
}

/** Writes a safetensors file atomically (temp file + rename), encoding one tensor at a time. */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  options: { metadata?: Record<string, string> } = {},
): Promise<void> {
  const chunks = safetensorsChunks(tensors, options.metadata);
  // Run the header pass (every check) before the target's folder or temp file is touched.
  const first = chunks.next();
  await writeFileAtomic(
    path,
    (function* () {
      if (!first.done) yield first.value;
      yield* chunks;
    })(),
  );
}
