// One torch.save zip checkpoint: its pickle is read (restricted) at open, each tensor's bytes only when asked for.
import { FormatError, SafetensorsError } from "../errors.js";
import { DTYPE_BYTES } from "../safetensors/dtypes.js";
import { checkZipMagic } from "./legacy-format.js";
import { TorchTensor } from "./torch-objects.js";
import { torchPicklePolicy } from "./torch-pickle-policy.js";
import { unpickle } from "./unpickler.js";
import { ZipArchive } from "./zip-archive.js";

// data.pkl of a state dict is a few hundred bytes per tensor; a larger one is not a state dict.
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;
// The longest Uint8Array Node 20 allocates (buffer.constants.MAX_LENGTH): 4 GiB of one tensor's bytes.
const MAX_TENSOR_BYTES = 2 ** 32;

/** The archive's top folder (torch names it after the file, so it varies): the one holding data.pkl. */
function archivePrefix(archive: ZipArchive): string {
  const folders = [...archive.entries.keys()]
    .filter((name) => /^[^/]+\/data\.pkl$/.test(name))
    .map((name) => name.slice(0, -"data.pkl".length));
  if (folders.length !== 1) {
    const found = folders.length === 0 ? "none" : folders.map((f) => `${f}data.pkl`).join(", ");
    throw new FormatError(
      `${archive.path}: a torch.save archive holds exactly one <folder>/data.pkl; found ${found}.`,
      { file: archive.path },
    );
  }
  return folders[0];
}

/** The state dict's tensors by name; other values (none in a plain state dict) are left out. */
function stateDictTensors(root: unknown, file: string): Map<string, TorchTensor> {
  if (!(root instanceof Map))
    throw new FormatError(`${file}: the checkpoint holds a ${describe(root)}, not a state dict (a dict of tensors).`, {
      file,
    });
  const tensors = new Map<string, TorchTensor>();
  for (const [key, value] of root) if (typeof key === "string" && value instanceof TorchTensor) tensors.set(key, value);
  if (tensors.size === 0 && root.size > 0) {
    const keys = [...root.keys()]
      .slice(0, 5)
      .map((k) => JSON.stringify(k))
      .join(", ");
    throw new FormatError(
      `${file}: the checkpoint's dict has no tensors at its top level (keys: ${keys}); a state dict of name → tensor was expected.`,
      { file },
    );
  }
  return tensors;
}

function describe(value: unknown): string {
  if (value === null) return "None";
  if (Array.isArray(value)) return "list";
  return value instanceof TorchTensor ? "single tensor" : typeof value;
}

export class TorchCheckpointFile {
  private constructor(
    readonly path: string,
    private readonly archive: ZipArchive,
    private readonly prefix: string,
    readonly tensors: Map<string, TorchTensor>,
  ) {}

  static async open(path: string): Promise<TorchCheckpointFile> {
    const archive = await ZipArchive.open(path, { check: (head) => checkZipMagic(path, head) });
    try {
      const prefix = archivePrefix(archive);
      // Absent (torch < 1.13 writes none) means little-endian, as torch.load assumes; the record is a word, never long.
      const record = archive.entries.get(`${prefix}byteorder`);
      const byteorder = !record
        ? "little"
        : record.size > 16
          ? "unknown"
          : new TextDecoder().decode(await archive.read(record.name)).trim();
      if (byteorder !== "little") {
        throw new FormatError(
          `${path}: ${prefix}byteorder says "${byteorder.slice(0, 16)}"; only little-endian checkpoints are read.`,
          { file: path },
        );
      }
      const pickleEntry = archive.entry(`${prefix}data.pkl`);
      if (pickleEntry.size > MAX_PICKLE_BYTES) {
        throw new FormatError(
          `${path}: ${prefix}data.pkl is ${pickleEntry.size} bytes, too large for a state dict's pickle.`,
          { file: path },
        );
      }
      const label = `${path} (${prefix}data.pkl)`;
      const root = unpickle(await archive.read(`${prefix}data.pkl`), {
        file: path,
        label,
        policy: torchPicklePolicy(path, label),
      });
      const checkpoint = new TorchCheckpointFile(path, archive, prefix, stateDictTensors(root, path));
      for (const name of checkpoint.tensors.keys()) checkpoint.check(name);
      return checkpoint;
    } catch (error) {
      await archive.close();
      throw error;
    }
  }

  private storageEntry(tensor: TorchTensor): string {
    return `${this.prefix}data/${tensor.storage.key}`;
  }

  /** The storage entry exists with the size its persistent id states, and the view stays inside it. */
  private check(name: string): void {
    const tensor = this.tensors.get(name)!;
    const { storage } = tensor;
    const entryName = this.storageEntry(tensor);
    const entry = this.archive.entries.get(entryName);
    const bytes = storage.numel * DTYPE_BYTES[storage.dtype];
    if (!entry)
      throw new SafetensorsError(
        `${this.path}: tensor "${name}" needs storage entry ${entryName}, which the archive lacks.`,
        { file: this.path, tensor: name },
      );
    if (entry.size !== bytes) {
      throw new SafetensorsError(
        `${this.path}: storage ${entryName} of tensor "${name}" should hold ${storage.numel} ${storage.dtype} elements (${bytes} bytes), found ${entry.size} bytes.`,
        { file: this.path, tensor: name },
      );
    }
    if (tensor.offset + tensor.span > storage.numel) {
      throw new SafetensorsError(
        `${this.path}: tensor "${name}" (shape [${tensor.shape.join(", ")}], stride [${tensor.stride.join(", ")}], offset ${tensor.offset}) ` +
          `reaches element ${tensor.offset + tensor.span} of a storage of ${storage.numel}.`,
        { file: this.path, tensor: name },
      );
    }
  }

  /** The tensor's elements in row-major order, as raw little-endian bytes: only the storage range it views is read. */
  async readBytes(name: string): Promise<Uint8Array> {
    const tensor = this.tensors.get(name);
    if (!tensor)
      throw new SafetensorsError(`${this.path}: no tensor named "${name}".`, { file: this.path, tensor: name });
    const size = DTYPE_BYTES[tensor.storage.dtype];
    if (tensor.numel === 0) return new Uint8Array(0);
    // A view may repeat elements (stride 0), so its size is not bounded by its storage's.
    if (tensor.numel * size > MAX_TENSOR_BYTES) {
      throw new SafetensorsError(
        `${this.path}: tensor "${name}" (shape [${tensor.shape.join(", ")}]) is too large for one typed array.`,
        { file: this.path, tensor: name },
      );
    }
    const range = await this.archive.read(this.storageEntry(tensor), tensor.offset * size, tensor.span * size);
    return tensor.isContiguous ? range : gatherStrided(range, size, tensor.shape, tensor.stride);
  }

  /** Rows [start, end) along the first dimension, as readBytes gives them: a contiguous tensor reads those rows alone. */
  async readRowBytes(name: string, start: number, end: number): Promise<Uint8Array> {
    const tensor = this.tensors.get(name);
    if (!tensor)
      throw new SafetensorsError(`${this.path}: no tensor named "${name}".`, { file: this.path, tensor: name });
    const size = DTYPE_BYTES[tensor.storage.dtype];
    const rowBytes = tensor.shape.slice(1).reduce((a, b) => a * b, 1) * size;
    if (!tensor.isContiguous) return (await this.readBytes(name)).slice(start * rowBytes, end * rowBytes);
    if (end === start) return new Uint8Array(0);
    return this.archive.read(
      this.storageEntry(tensor),
      tensor.offset * size + start * rowBytes,
      (end - start) * rowBytes,
    );
  }

  close(): Promise<void> {
    return this.archive.close();
  }
}

/** Copies a strided view (strides in elements, from the range's start) into row-major order. */
function gatherStrided(
  range: Uint8Array,
  elementSize: number,
  shape: readonly number[],
  stride: readonly number[],
): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(count * elementSize);
  const index = new Array<number>(shape.length).fill(0);
  let source = 0;
  for (let i = 0; i < count; i++) {
    out.set(range.subarray(source * elementSize, (source + 1) * elementSize), i * elementSize);
    // Odometer over the dimensions, last fastest.
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      source += stride[d];
      if (index[d] < shape[d]) break;
      source -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}
