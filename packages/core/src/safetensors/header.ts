import { SafetensorsError } from "../errors.js";
import { DTYPE_BYTES, isSafetensorsDtype, type SafetensorsDtype } from "./dtypes.js";

/** Largest JSON header we accept: real headers are well under a few MB even for 100k tensors. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

export interface ParsedHeader {
  /** Byte offset in the file where the data section starts (8 + header length). */
  dataStart: number;
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** Validates the 8-byte length prefix against the file size; returns the header length. */
export function checkHeaderLength(file: string, headerLength: bigint, fileSize: number): number {
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(
      `${file}: the header claims ${headerLength} bytes, more than the ${MAX_HEADER_BYTES}-byte limit; the file is corrupt or not a safetensors file.`,
      { file },
    );
  }
  const length = Number(headerLength);
  if (8 + length > fileSize) {
    throw new SafetensorsError(
      `${file}: the header claims ${length} bytes but the file has only ${fileSize - 8} after the length prefix; the file is truncated or not a safetensors file.`,
      { file },
    );
  }
  return length;
}

/** Parses and checks the JSON header: dtypes, shapes, offsets in range, sizes matching, no overlaps. */
export function parseHeader(file: string, json: string, headerLength: number, fileSize: number): ParsedHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw new SafetensorsError(`${file}: the header is not valid JSON (${(cause as Error).message}).`, { file, cause });
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new SafetensorsError(
      `${file}: the header must be a JSON object, found ${Array.isArray(raw) ? "an array" : typeof raw}.`,
      { file },
    );
  }
  const dataStart = 8 + headerLength;
  const dataLength = fileSize - dataStart;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = parseMetadata(file, value);
      continue;
    }
    tensors.set(name, parseEntry(file, name, value, dataLength));
  }
  checkNoOverlap(file, [...tensors.values()]);
  return { dataStart, tensors, metadata };
}

function parseMetadata(file: string, value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SafetensorsError(`${file}: "__metadata__" must be an object of strings.`, { file });
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string")
      throw new SafetensorsError(`${file}: "__metadata__.${k}" must be a string, found ${typeof v}.`, { file });
    out[k] = v;
  }
  return out;
}

function parseEntry(file: string, name: string, value: unknown, dataLength: number): TensorEntry {
  const fail = (what: string): never => {
    throw new SafetensorsError(`${file}: tensor "${name}": ${what}`, { file, tensor: name });
  };
  if (value === null || typeof value !== "object") fail("its header entry is not an object.");
  const { dtype, shape, data_offsets: offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!isSafetensorsDtype(dtype))
    fail(`unknown dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPE_BYTES).join(", ")}).`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`shape must be a list of non-negative integers, found ${JSON.stringify(shape)}.`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`data_offsets must be [begin, end], found ${JSON.stringify(offsets)}.`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`data_offsets [${begin}, ${end}] end before they begin.`);
  if (end > dataLength)
    fail(
      `data_offsets [${begin}, ${end}] run past the end of the data section (${dataLength} bytes); the file is truncated.`,
    );
  const dims = shape as number[];
  const expectedBytes = dims.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype as SafetensorsDtype];
  if (end - begin !== expectedBytes) {
    fail(
      `shape [${dims.join(", ")}] of ${dtype as SafetensorsDtype} needs ${expectedBytes} bytes, but data_offsets span ${end - begin}.`,
    );
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: dims, begin, end };
}

function checkNoOverlap(file: string, entries: TensorEntry[]): void {
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end) {
      throw new SafetensorsError(
        `${file}: tensors "${prev.name}" [${prev.begin}, ${prev.end}) and "${cur.name}" [${cur.begin}, ${cur.end}) overlap.`,
        { file, tensor: cur.name },
      );
    }
  }
}
