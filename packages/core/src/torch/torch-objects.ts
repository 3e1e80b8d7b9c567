// What a torch.save pickle may build: storages (stand-ins for `archive/data/<key>` entries) and tensor views on them.
import type { SafetensorsDtype } from "../safetensors/dtypes.js";

/** torch's legacy typed-storage classes, as torch.save names them in persistent ids, with their element types. */
export const STORAGE_DTYPES: Readonly<Record<string, SafetensorsDtype>> = {
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  DoubleStorage: "F64",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};

/** A storage named by a persistent id `('storage', torch.<Type>Storage, key, location, numel)`. */
export class TorchStorage {
  constructor(
    readonly dtype: SafetensorsDtype,
    /** The entry `<archive>/data/<key>` holds its bytes. */
    readonly key: string,
    /** Elements in the storage. */
    readonly numel: number,
  ) {}
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view (offset and strides in elements) into a storage. */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** Row-major and gap-free, so its bytes are one range of the storage (strides of size-1 dimensions do not matter). */
  get isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.stride[i] !== expected) return false;
      expected *= this.shape[i];
    }
    return true;
  }

  /** Elements from the first to one past the last this view touches (0 for an empty tensor). */
  get span(): number {
    if (this.numel === 0) return 0;
    return 1 + this.shape.reduce((sum, size, i) => sum + (size - 1) * this.stride[i], 0);
  }
}
