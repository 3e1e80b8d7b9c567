import { access, open, readFile, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { SafetensorsError } from "../errors.js";
import { bytesToFloat32, bytesToTypedArray, DTYPE_BYTES, type SafetensorsDtype, type TensorData } from "./dtypes.js";
import { checkHeaderLength, parseHeader, type TensorEntry } from "./header.js";

export interface TensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** The file (shard) that holds the tensor. */
  file: string;
}

export interface LoadedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface ReadRowsOptions {
  /** The first row (index along the first dimension). */
  start: number;
  /** One past the last row. */
  end: number;
  /** Where the values go ((end − start) × the row's size floats; reused by the caller); a new array when absent. */
  into?: Float32Array;
}

/** Reads tensors one at a time from a safetensors file or a sharded index; never holds a whole shard. */
export interface SafetensorsReader {
  readonly path: string;
  readonly metadata: Record<string, string>;
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /** The tensor's values as float32 (F16/BF16/F64 and integers are converted). */
  readFloat32(name: string): Promise<Float32Array>;
  /**
   * Rows [start, end) along the first dimension as float32, read alone from the file: a loader can pack a big
   * tensor a chunk at a time without ever holding it whole.
   */
  readFloat32Rows(name: string, options: ReadRowsOptions): Promise<Float32Array>;
  /** The tensor in its natural typed array (F16/BF16 as float32). */
  read(name: string): Promise<LoadedTensor>;
  close(): Promise<void>;
}

class SingleFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly dataStart: number,
    readonly tensors: Map<string, TensorEntry>,
    readonly metadata: Record<string, string>,
  ) {}

  static async open(path: string): Promise<SingleFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (cause) {
      throw new SafetensorsError(`${path}: cannot open (${(cause as Error).message}).`, { file: path, cause });
    }
    try {
      const { size } = await handle.stat();
      if (size < 8)
        throw new SafetensorsError(`${path}: ${size} bytes is too short for a safetensors file (needs at least 8).`, {
          file: path,
        });
      const prefix = Buffer.alloc(8);
      await handle.read(prefix, 0, 8, 0);
      const headerLength = checkHeaderLength(path, prefix.readBigUInt64LE(0), size);
      const headerBytes = Buffer.alloc(headerLength);
      await handle.read(headerBytes, 0, headerLength, 8);
      const header = parseHeader(path, headerBytes.toString("utf8"), headerLength, size);
      return new SingleFile(path, handle, header.dataStart, header.tensors, header.metadata);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** `length` bytes of the tensor from byte `from` of its data, into `bytes` (a new array when absent). */
  async readBytes(
    entry: TensorEntry,
    from = 0,
    length = entry.end - entry.begin,
    into?: Uint8Array,
  ): Promise<Uint8Array> {
    const bytes = into ?? new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = this.dataStart + entry.begin + from + done;
      const { bytesRead } = await this.handle.read(bytes, done, length - done, at);
      if (bytesRead === 0) {
        throw new SafetensorsError(`${this.path}: tensor "${entry.name}": the file ended before its data did.`, {
          file: this.path,
          tensor: entry.name,
        });
      }
      done += bytesRead;
    }
    return bytes;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

class Reader implements SafetensorsReader {
  constructor(
    readonly path: string,
    readonly metadata: Record<string, string>,
    private readonly location: Map<string, string>,
    private readonly openShard: (file: string) => Promise<SingleFile>,
    private readonly opened: Map<string, Promise<SingleFile>>,
  ) {}

  names(): string[] {
    return [...this.location.keys()];
  }

  has(name: string): boolean {
    return this.location.has(name);
  }

  private async entry(name: string): Promise<{ shard: SingleFile; entry: TensorEntry }> {
    const file = this.location.get(name);
    if (!file)
      throw new SafetensorsError(`${this.path}: no tensor named "${name}".`, { file: this.path, tensor: name });
    const shard = await this.openShard(file);
    const entry = shard.tensors.get(name);
    if (!entry) {
      throw new SafetensorsError(`${file}: the index says it holds tensor "${name}", but it does not.`, {
        file,
        tensor: name,
      });
    }
    return { shard, entry };
  }

  info(name: string): TensorInfo {
    const info = this.infos.get(name);
    if (!info)
      throw new SafetensorsError(`${this.path}: no tensor named "${name}".`, { file: this.path, tensor: name });
    return info;
  }

  /** Filled by openSafetensors once every shard's header has been read. */
  readonly infos = new Map<string, TensorInfo>();

  async readFloat32(name: string): Promise<Float32Array> {
    const { shard, entry } = await this.entry(name);
    const length = entry.end - entry.begin;
    // F32 is read straight into the array it is returned in: no second copy of a big tensor.
    if (entry.dtype === "F32") {
      const out = new Float32Array(length / 4);
      await shard.readBytes(entry, 0, length, new Uint8Array(out.buffer));
      return out;
    }
    return bytesToFloat32(await shard.readBytes(entry), entry.dtype);
  }

  async readFloat32Rows(name: string, options: ReadRowsOptions): Promise<Float32Array> {
    const { shard, entry } = await this.entry(name);
    const { start, end, into } = options;
    const rows = entry.shape[0] ?? 0;
    const rowSize = entry.shape.slice(1).reduce((a, b) => a * b, 1);
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end && end <= rows)) {
      throw new SafetensorsError(
        `${shard.path}: tensor "${name}" (shape [${entry.shape.join(", ")}]) has no rows ${start}..${end}; expected 0 ≤ start ≤ end ≤ ${rows}.`,
        { file: shard.path, tensor: name },
      );
    }
    const count = (end - start) * rowSize;
    if (into && into.length !== count) {
      throw new SafetensorsError(
        `${shard.path}: tensor "${name}": rows ${start}..${end} are ${count} values, but the buffer given holds ${into.length}.`,
        { file: shard.path, tensor: name },
      );
    }
    const width = DTYPE_BYTES[entry.dtype];
    const from = start * rowSize * width;
    if (entry.dtype === "F32") {
      const out = into ?? new Float32Array(count);
      await shard.readBytes(entry, from, count * 4, new Uint8Array(out.buffer, out.byteOffset, count * 4));
      return out;
    }
    const values = bytesToFloat32(await shard.readBytes(entry, from, count * width), entry.dtype);
    if (!into) return values;
    into.set(values);
    return into;
  }

  async read(name: string): Promise<LoadedTensor> {
    const { shard, entry } = await this.entry(name);
    return {
      dtype: entry.dtype,
      shape: entry.shape,
      data: bytesToTypedArray(await shard.readBytes(entry), entry.dtype),
    };
  }

  async close(): Promise<void> {
    const shards = await Promise.allSettled(this.opened.values());
    await Promise.all(shards.map((s) => (s.status === "fulfilled" ? s.value.close() : Promise.resolve())));
    this.opened.clear();
  }
}

/**
 * Opens a `.safetensors` file, or a sharded `model.safetensors.index.json`; tensors are then read one at a time.
 * Every shard's header is read and validated up front, so a missing shard or corrupt header fails here.
 */
export async function openSafetensors(path: string): Promise<SafetensorsReader> {
  const opened = new Map<string, Promise<SingleFile>>();
  const openShard = (file: string): Promise<SingleFile> => {
    let shard = opened.get(file);
    if (!shard) {
      shard = SingleFile.open(file);
      opened.set(file, shard);
    }
    return shard;
  };
  if (!path.endsWith(".json")) {
    const single = await openShard(path);
    const location = new Map([...single.tensors.keys()].map((n) => [n, path] as const));
    const reader = new Reader(path, single.metadata, location, openShard, opened);
    for (const e of single.tensors.values()) reader.infos.set(e.name, { dtype: e.dtype, shape: e.shape, file: path });
    return reader;
  }
  const index = await readIndex(path);
  const location = new Map<string, string>();
  for (const [name, shardName] of Object.entries(index.weightMap)) location.set(name, join(dirname(path), shardName));
  const reader = new Reader(path, index.metadata, location, openShard, opened);
  try {
    for (const file of new Set(location.values())) {
      await checkShardExists(path, file, location);
      const shard = await openShard(file);
      for (const e of shard.tensors.values()) {
        if (location.get(e.name) === file) reader.infos.set(e.name, { dtype: e.dtype, shape: e.shape, file });
      }
    }
    for (const [name, file] of location) {
      if (!reader.infos.has(name)) {
        throw new SafetensorsError(`${path}: the index maps tensor "${name}" to ${file}, which does not hold it.`, {
          file,
          tensor: name,
        });
      }
    }
  } catch (error) {
    await reader.close();
    throw error;
  }
  return reader;
}

async function readIndex(
  path: string,
): Promise<{ weightMap: Record<string, string>; metadata: Record<string, string> }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new SafetensorsError(`${path}: cannot read the shard index (${(cause as Error).message}).`, {
      file: path,
      cause,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new SafetensorsError(`${path}: the shard index is not valid JSON (${(cause as Error).message}).`, {
      file: path,
      cause,
    });
  }
  const weightMap = (raw as { weight_map?: unknown } | null)?.weight_map;
  if (weightMap === null || typeof weightMap !== "object" || Array.isArray(weightMap)) {
    throw new SafetensorsError(`${path}: the shard index needs a "weight_map" object of tensor name → shard file.`, {
      file: path,
    });
  }
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\")) {
      throw new SafetensorsError(
        `${path}: "weight_map.${name}" must be a shard file name in the same folder, found ${JSON.stringify(shard)}.`,
        {
          file: path,
          tensor: name,
        },
      );
    }
  }
  const meta = (raw as { metadata?: Record<string, unknown> }).metadata ?? {};
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) metadata[k] = String(v);
  return { weightMap: weightMap as Record<string, string>, metadata };
}

/** A missing shard is named with the index that points at it and a tensor it should hold. */
async function checkShardExists(indexPath: string, file: string, location: Map<string, string>): Promise<void> {
  try {
    await access(file);
  } catch {
    const held = [...location].filter(([, f]) => f === file).map(([name]) => name);
    const more = held.length > 1 ? ` and ${held.length - 1} more` : "";
    throw new SafetensorsError(`${indexPath}: shard ${file} (holding "${held[0]}"${more}) is missing.`, {
      file,
      tensor: held[0],
    });
  }
}
