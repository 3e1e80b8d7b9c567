// Test helper: writes torch.save-shaped zip checkpoints and pickles byte by byte (not with our reader's code),
// so tests can make shared storages, strided views, deflated or zip64 archives, and hostile pickles.
import { crc32, deflateRawSync } from "node:zlib";

/** Emits pickle opcodes the way CPython's protocol-2 pickler does for a state dict. */
export class PickleWriter {
  private readonly parts: number[] = [];

  raw(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }

  text(s: string): this {
    return this.raw(...Buffer.from(s, "latin1"));
  }

  proto(version = 2): this {
    return this.raw(0x80, version);
  }

  global(module: string, name: string): this {
    return this.raw(0x63).text(`${module}\n${name}\n`);
  }

  str(s: string): this {
    const bytes = Buffer.from(s, "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.byteLength);
    return this.raw(0x58, ...length, ...bytes);
  }

  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(n);
      return this.raw(0x4a, ...b);
    }
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    return this.raw(0x8a, 8, ...b);
  }

  mark(): this {
    return this.raw(0x28);
  }

  tuple(items: number[]): this {
    if (items.length === 0) return this.raw(0x29);
    this.mark();
    for (const i of items) this.int(i);
    return this.raw(0x74);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface FixtureTensor {
  name: string;
  /** torch.<type> name, e.g. FloatStorage. */
  storageType: string;
  key: string;
  storageNumel: number;
  offset?: number;
  shape: number[];
  /** Default: row-major. */
  stride?: number[];
  /** Wrap in torch._utils._rebuild_parameter, as nn.Parameter pickles. */
  parameter?: boolean;
}

function rowMajor(shape: number[]): number[] {
  const stride = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) stride[i] = stride[i + 1] * shape[i + 1];
  return stride;
}

/** A state-dict pickle as torch.save writes it (protocol 2, OrderedDict, _rebuild_tensor_v2, persistent storage ids). */
export function stateDictPickle(tensors: FixtureTensor[], options: { metadata?: boolean } = {}): Uint8Array {
  const w = new PickleWriter().proto(2).global("collections", "OrderedDict").raw(0x71, 0, 0x29, 0x52, 0x71, 1).mark();
  for (const t of tensors) {
    w.str(t.name);
    if (t.parameter) w.global("torch._utils", "_rebuild_parameter").mark();
    w.global("torch._utils", "_rebuild_tensor_v2").mark();
    w.mark().str("storage").global("torch", t.storageType).str(t.key).str("cpu").int(t.storageNumel).raw(0x74, 0x51);
    w.int(t.offset ?? 0)
      .tuple(t.shape)
      .tuple(t.stride ?? rowMajor(t.shape));
    w.raw(0x89).global("collections", "OrderedDict").raw(0x29, 0x52).raw(0x74, 0x52);
    if (t.parameter) w.raw(0x89).global("collections", "OrderedDict").raw(0x29, 0x52).raw(0x74, 0x52);
  }
  w.raw(0x75);
  if (options.metadata) {
    // state_dict()._metadata: {'_metadata': OrderedDict([('', {'version': 1})])} set by BUILD.
    w.raw(0x7d)
      .str("_metadata")
      .global("collections", "OrderedDict")
      .raw(0x29, 0x52)
      .mark()
      .str("")
      .raw(0x7d)
      .str("version")
      .int(1)
      .raw(0x73);
    w.raw(0x75).raw(0x73).raw(0x62);
  }
  return w.raw(0x2e).bytes();
}

export interface ZipFileEntry {
  name: string;
  data: Uint8Array;
}

export interface ZipOptions {
  deflate?: boolean;
  /** Pad local headers so data starts on this boundary, as torch ≥ 1.x does with 64. */
  align?: number;
  /** Write zip64 records and extra fields even though nothing needs them. */
  zip64?: boolean;
}

/** A zip archive (stored or deflated), laid out as PyTorch's writer does. */
function zipArchive(entries: ZipFileEntry[], options: ZipOptions = {}): Uint8Array {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const z64 = options.zip64 === true;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8");
    const body = options.deflate ? deflateRawSync(entry.data) : Buffer.from(entry.data);
    const crc = crc32(entry.data);
    let pad = 0;
    if (options.align) pad = (options.align - ((offset + 30 + name.byteLength + 4) % options.align)) % options.align;
    const localExtra = pad > 0 || options.align ? Buffer.alloc(4 + pad) : Buffer.alloc(0);
    if (localExtra.byteLength) {
      localExtra.writeUInt16LE(0x4246, 0); // 'FB', PyTorch's padding field
      localExtra.writeUInt16LE(pad, 2);
    }
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(options.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.byteLength, 18);
    local.writeUInt32LE(entry.data.byteLength, 22);
    local.writeUInt16LE(name.byteLength, 26);
    local.writeUInt16LE(localExtra.byteLength, 28);
    chunks.push(local, name, localExtra, body);
    const extra = z64 ? Buffer.alloc(4 + 24) : Buffer.alloc(0);
    if (z64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(entry.data.byteLength), 4);
      extra.writeBigUInt64LE(BigInt(body.byteLength), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(45, 4);
    record.writeUInt16LE(45, 6);
    record.writeUInt16LE(options.deflate ? 8 : 0, 10);
    record.writeUInt32LE(crc, 16);
    record.writeUInt32LE(z64 ? 0xffffffff : body.byteLength, 20);
    record.writeUInt32LE(z64 ? 0xffffffff : entry.data.byteLength, 24);
    record.writeUInt16LE(name.byteLength, 28);
    record.writeUInt16LE(extra.byteLength, 30);
    record.writeUInt32LE(z64 ? 0xffffffff : offset, 42);
    central.push(record, name, extra);
    offset += 30 + name.byteLength + localExtra.byteLength + body.byteLength;
  }
  const directory = Buffer.concat(central);
  const trailer: Buffer[] = [];
  if (z64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(entries.length), 24);
    record.writeBigUInt64LE(BigInt(entries.length), 32);
    record.writeBigUInt64LE(BigInt(directory.byteLength), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + directory.byteLength), 8);
    locator.writeUInt32LE(1, 16);
    trailer.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(z64 ? 0xffff : entries.length, 8);
  end.writeUInt16LE(z64 ? 0xffff : entries.length, 10);
  end.writeUInt32LE(z64 ? 0xffffffff : directory.byteLength, 12);
  end.writeUInt32LE(z64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...chunks, directory, ...trailer, end]);
}

/** A whole checkpoint: `<folder>/data.pkl`, `<folder>/data/<key>` for each storage, `byteorder` and `version`. */
export function torchCheckpoint(
  folder: string,
  pickle: Uint8Array,
  storages: Record<string, Uint8Array>,
  options: ZipOptions & { byteorder?: string | null } = {},
): Uint8Array {
  const entries: ZipFileEntry[] = [{ name: `${folder}/data.pkl`, data: pickle }];
  if (options.byteorder !== null)
    entries.push({ name: `${folder}/byteorder`, data: Buffer.from(options.byteorder ?? "little") });
  for (const [key, data] of Object.entries(storages)) entries.push({ name: `${folder}/data/${key}`, data });
  entries.push({ name: `${folder}/version`, data: Buffer.from("3\n") });
  return zipArchive(entries, options);
}
