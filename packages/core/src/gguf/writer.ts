// Writes a GGUF v3 file, tensor by tensor: the header is laid out first from names, shapes and types alone,
// then each tensor's values are fetched, encoded and written, so a model is never held twice in memory.
import { writeFileAtomic } from "../atomic-write.js";
import { ValidationError } from "../errors.js";
import { ByteSink } from "./byte-sink.js";
import { GGML_TYPE, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, type GgmlTensorType } from "./constants.js";
import { writeMetadataEntry, type GgufValue } from "./metadata.js";
import { encodeTensor, tensorByteSize } from "./tensor-encoding.js";

/** One tensor to write: its shape in row-major order (as torch and safetensors give it) and where its values come from. */
export interface GgufTensorSource {
  name: string;
  shape: readonly number[];
  type: GgmlTensorType;
  /** The float32 values, row-major; asked for once, when the tensor's turn comes. */
  values: () => Promise<Float32Array>;
}

export interface WriteGgufOptions {
  /** Key/value pairs in the order they are written (llama.cpp reads `general.architecture` first by convention). */
  metadata: ReadonlyArray<readonly [string, GgufValue]>;
  tensors: readonly GgufTensorSource[];
  /** Data alignment (default 32); written as `general.alignment` when the metadata does not hold it. */
  alignment?: number;
  /** Called after each tensor is written. */
  onProgress?: (progress: { tensor: string; done: number; total: number }) => void;
  signal?: AbortSignal;
}

function checkTensors(tensors: readonly GgufTensorSource[]): number[] {
  const seen = new Set<string>();
  return tensors.map((t) => {
    if (seen.has(t.name)) throw new ValidationError(`GGUF tensor "${t.name}" is given twice`, { location: t.name });
    seen.add(t.name);
    if (t.shape.length === 0 || t.shape.length > 4 || !t.shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new ValidationError(
        `GGUF tensor "${t.name}": shape must be 1 to 4 positive integers, found [${t.shape.join(", ")}]`,
        { location: t.name },
      );
    }
    return tensorByteSize(t.name, t.shape, t.type);
  });
}

/** The header: magic, version, counts, metadata, tensor infos (dims in ggml order, innermost first), padding. */
function header(options: WriteGgufOptions, sizes: number[], alignment: number): Uint8Array {
  const metadata = [...options.metadata];
  const keys = new Set<string>();
  for (const [key] of metadata) {
    if (keys.has(key)) throw new ValidationError(`GGUF metadata key "${key}" is given twice`, { location: key });
    keys.add(key);
  }
  if (!keys.has("general.alignment")) metadata.push(["general.alignment", { type: "uint32", value: alignment }]);
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(options.tensors.length);
  sink.u64(metadata.length);
  for (const [key, value] of metadata) writeMetadataEntry(sink, key, value);
  let offset = 0;
  options.tensors.forEach((t, i) => {
    sink.string(t.name);
    sink.u32(t.shape.length);
    for (let d = t.shape.length - 1; d >= 0; d--) sink.u64(t.shape[d]);
    sink.u32(GGML_TYPE[t.type]);
    sink.u64(offset);
    offset += sizes[i] + padding(sizes[i], alignment);
  });
  sink.padTo(alignment);
  return sink.bytes();
}

function padding(size: number, alignment: number): number {
  return (alignment - (size % alignment)) % alignment;
}

/**
 * Writes `path` as GGUF v3 (little-endian), atomically: a failure part way (a bad tensor, an abort) leaves no file
 * and any previous one intact. Every name, shape and type is checked before the file is created.
 */
export async function writeGguf(path: string, options: WriteGgufOptions): Promise<void> {
  const alignment = options.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment < 8 || alignment % 8 !== 0) {
    throw new ValidationError(`GGUF alignment must be a positive multiple of 8, found ${alignment}`, {
      location: "alignment",
    });
  }
  const sizes = checkTensors(options.tensors);
  const head = header(options, sizes, alignment);
  const { tensors, onProgress, signal } = options;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield head;
    for (let i = 0; i < tensors.length; i++) {
      signal?.throwIfAborted();
      const t = tensors[i];
      const values = await t.values();
      const count = t.shape.reduce((a, b) => a * b, 1);
      if (values.length !== count) {
        throw new ValidationError(
          `GGUF tensor "${t.name}": shape [${t.shape.join(", ")}] holds ${count} values, but ${values.length} were given`,
          { location: t.name },
        );
      }
      const bytes = encodeTensor(values, t.type);
      yield bytes;
      const pad = padding(bytes.length, alignment);
      if (pad > 0) yield new Uint8Array(pad);
      onProgress?.({ tensor: t.name, done: i + 1, total: tensors.length });
    }
  }
  await writeFileAtomic(path, chunks());
}
