import { writeFileAtomic } from '../atomic-write.js';
import { SafetensorsError } from '../errors.js';
import { DTYPE_BYTES, floatToHalf, type SafetensorsDtype, type TensorData } from './dtypes.js';

export interface TensorToWrite {
  shape: readonly number[];
  data: TensorData | readonly number[];
  /** Stored dtype; defaults to F32 for float data, I32/I64 for integer arrays. F16 and BF16 are converted from float. */
  dtype?: SafetensorsDtype;
}

const bf16Scratch = new Float32Array(1);
const bf16Bits = new Uint32Array(bf16Scratch.buffer);

function defaultDtype(data: TensorToWrite['data']): SafetensorsDtype {
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof Uint8Array) return 'U8';
  if (data instanceof Float64Array) return 'F64';
  return 'F32';
}

function encode(name: string, tensor: TensorToWrite, dtype: SafetensorsDtype): Uint8Array {
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== count) {
    throw new SafetensorsError(`tensor "${name}": shape [${tensor.shape.join(', ')}] holds ${count} values but ${tensor.data.length} were given.`, {
      tensor: name,
    });
  }
  const out = new Uint8Array(count * DTYPE_BYTES[dtype]);
  const view = new DataView(out.buffer);
  const values = tensor.data;
  for (let i = 0; i < count; i++) {
    const v = values[i] as number | bigint;
    switch (dtype) {
      case 'F32': view.setFloat32(i * 4, Number(v), true); break;
      case 'F64': view.setFloat64(i * 8, Number(v), true); break;
      case 'F16': view.setUint16(i * 2, floatToHalf(Number(v)), true); break;
      case 'BF16': {
        // Round to nearest even on the upper 16 bits, as torch does.
        bf16Scratch[0] = Number(v);
        const bits = bf16Bits[0];
        const rounded = Number.isNaN(bf16Scratch[0]) ? 0x7fc0 : ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
        view.setUint16(i * 2, rounded, true);
        break;
      }
      case 'I64': view.setBigInt64(i * 8, BigInt(v), true); break;
      case 'U64': view.setBigUint64(i * 8, BigInt(v), true); break;
      case 'I32': view.setInt32(i * 4, Number(v), true); break;
      case 'U32': view.setUint32(i * 4, Number(v), true); break;
      case 'I16': view.setInt16(i * 2, Number(v), true); break;
      case 'U16': view.setUint16(i * 2, Number(v), true); break;
      case 'I8': view.setInt8(i, Number(v)); break;
      case 'U8': case 'BOOL': view.setUint8(i, Number(v)); break;
    }
  }
  return out;
}

/** Serializes tensors to safetensors bytes (header padded to 8 bytes, tensors in name order). */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite>,
  options: { metadata?: Record<string, string> } = {},
): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (options.metadata && Object.keys(options.metadata).length > 0) header.__metadata__ = options.metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of Object.keys(tensors).sort()) {
    const tensor = tensors[name];
    const dtype = tensor.dtype ?? defaultDtype(tensor.data);
    const bytes = encode(name, tensor, dtype);
    header[name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.byteLength), 0);
  return [prefix, headerBytes, ...chunks];
}

/** Writes a safetensors file atomically (temp file + rename). */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite>,
  options: { metadata?: Record<string, string> } = {},
): Promise<void> {
  await writeFileAtomic(path, serializeSafetensors(tensors, options));
}
