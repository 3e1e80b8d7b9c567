// PyTorch zip checkpoints (`pytorch_model.bin`, or sharded through `pytorch_model.bin.index.json`) behind the same
// one-tensor-at-a-time interface as safetensors, so loaders take either.
import { access, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { FormatError, SafetensorsError } from "../errors.js";
import { bytesToFloat32, bytesToTypedArray } from "../safetensors/dtypes.js";
import type { LoadedTensor, ReadRowsOptions, SafetensorsReader, TensorInfo } from "../safetensors/reader.js";
import { halfBytesToFloat32 } from "./half-to-float32.js";
import { TorchCheckpointFile } from "./torch-checkpoint-file.js";

/** Reads tensors one at a time; dtypes use safetensors' names (F32, F16, BF16, I64, …). */
export type TorchCheckpointReader = SafetensorsReader;

/** Float32 straight over freshly read, aligned bytes (no copy); float16 by table; other dtypes converted. */
function toFloat32(bytes: Uint8Array, dtype: TensorInfo["dtype"]): Float32Array {
  const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  if (dtype === "F32" && owned) return new Float32Array(bytes.buffer);
  return dtype === "F16" ? halfBytesToFloat32(bytes) : bytesToFloat32(bytes, dtype);
}

class Reader implements TorchCheckpointReader {
  constructor(
    readonly path: string,
    readonly metadata: Record<string, string>,
    private readonly location: Map<string, TorchCheckpointFile>,
  ) {}

  names(): string[] {
    return [...this.location.keys()];
  }

  has(name: string): boolean {
    return this.location.has(name);
  }

  private shard(name: string): TorchCheckpointFile {
    const shard = this.location.get(name);
    if (!shard)
      throw new SafetensorsError(`${this.path}: no tensor named "${name}".`, { file: this.path, tensor: name });
    return shard;
  }

  info(name: string): TensorInfo {
    const shard = this.shard(name);
    const tensor = shard.tensors.get(name)!;
    return { dtype: tensor.storage.dtype, shape: [...tensor.shape], file: shard.path };
  }

  async readFloat32(name: string): Promise<Float32Array> {
    return toFloat32(await this.shard(name).readBytes(name), this.info(name).dtype);
  }

  async readFloat32Rows(name: string, options: ReadRowsOptions): Promise<Float32Array> {
    const { shape, dtype } = this.info(name);
    const { start, end, into } = options;
    const rows = shape[0] ?? 0;
    const count = (end - start) * shape.slice(1).reduce((a, b) => a * b, 1);
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end && end <= rows)) {
      throw new SafetensorsError(
        `${this.path}: tensor "${name}" (shape [${shape.join(", ")}]) has no rows ${start}..${end}; expected 0 ≤ start ≤ end ≤ ${rows}.`,
        { file: this.path, tensor: name },
      );
    }
    if (into && into.length !== count) {
      throw new SafetensorsError(
        `${this.path}: tensor "${name}": rows ${start}..${end} are ${count} values, but the buffer given holds ${into.length}.`,
        { file: this.path, tensor: name },
      );
    }
    const values = toFloat32(await this.shard(name).readRowBytes(name, start, end), dtype);
    if (!into) return values;
    into.set(values);
    return into;
  }

  async read(name: string): Promise<LoadedTensor> {
    const { dtype, shape } = this.info(name);
    return { dtype, shape, data: bytesToTypedArray(await this.shard(name).readBytes(name), dtype) };
  }

  async close(): Promise<void> {
    await Promise.all([...new Set(this.location.values())].map((shard) => shard.close()));
    this.location.clear();
  }
}

async function readIndex(path: string): Promise<{ weightMap: Map<string, string>; metadata: Record<string, string> }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new FormatError(`${path}: cannot read the shard index (${(cause as Error).message}).`, { file: path, cause });
  }
  const weightMap = (raw as { weight_map?: unknown } | null)?.weight_map;
  if (weightMap === null || typeof weightMap !== "object" || Array.isArray(weightMap)) {
    throw new FormatError(`${path}: the shard index needs a "weight_map" object of tensor name → shard file.`, {
      file: path,
    });
  }
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\")) {
      throw new FormatError(
        `${path}: "weight_map.${name}" must be a shard file name in the same folder, found ${JSON.stringify(shard)}.`,
        { file: path },
      );
    }
    map.set(name, shard);
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries((raw as { metadata?: Record<string, unknown> }).metadata ?? {}))
    metadata[k] = String(v);
  return { weightMap: map, metadata };
}

/**
 * Opens a torch.save zip checkpoint (`.bin`/`.pt`), or a sharded `pytorch_model.bin.index.json`. Every shard's
 * pickle is read (restricted: only tensor globals) and checked up front; tensor bytes are read one tensor at a time.
 */
export async function openTorchCheckpoint(path: string): Promise<TorchCheckpointReader> {
  if (!path.endsWith(".json")) {
    const file = await TorchCheckpointFile.open(path);
    return new Reader(path, {}, new Map([...file.tensors.keys()].map((name) => [name, file] as const)));
  }
  const index = await readIndex(path);
  const opened = new Map<string, TorchCheckpointFile>();
  const location = new Map<string, TorchCheckpointFile>();
  try {
    for (const [name, shardName] of index.weightMap) {
      let shard = opened.get(shardName);
      if (!shard) {
        const file = join(dirname(path), shardName);
        await access(file).catch((cause: unknown) => {
          throw new SafetensorsError(`${path}: shard ${file} (holding "${name}") is missing.`, {
            file,
            tensor: name,
            cause,
          });
        });
        shard = await TorchCheckpointFile.open(file);
        opened.set(shardName, shard);
      }
      if (!shard.tensors.has(name)) {
        throw new SafetensorsError(
          `${path}: the index maps tensor "${name}" to ${shard.path}, which does not hold it.`,
          { file: shard.path, tensor: name },
        );
      }
      location.set(name, shard);
    }
  } catch (error) {
    await Promise.all([...opened.values()].map((shard) => shard.close()));
    throw error;
  }
  return new Reader(path, index.metadata, location);
}
