// Test helper: builds safetensors bytes by hand (not with our writer), so tests can corrupt any part.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RawFileParts {
  /** The JSON header as an object, or a raw string (for invalid JSON). */
  header: Record<string, unknown> | string;
  /** Bytes of the data section. */
  data?: Uint8Array;
  /** Overrides the 8-byte length prefix. */
  headerLength?: bigint;
}

function rawSafetensors(parts: RawFileParts): Uint8Array {
  const json = typeof parts.header === "string" ? parts.header : JSON.stringify(parts.header);
  const headerBytes = Buffer.from(json, "utf8");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(parts.headerLength ?? BigInt(headerBytes.byteLength), 0);
  return Buffer.concat([prefix, headerBytes, parts.data ?? new Uint8Array(0)]);
}

export async function tempDir(prefix = "llamats-st-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeRaw(dir: string, name: string, parts: RawFileParts): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, rawSafetensors(parts));
  return path;
}

/** Independent reading of one tensor's raw bytes: prefix → header → data section, with nothing of our reader. */
export function rawTensorView(file: Uint8Array, name: string): { dtype: string; shape: number[]; view: DataView } {
  const outer = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLength = Number(outer.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(file.subarray(8, 8 + headerLength)).toString("utf8")) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const entry = header[name];
  const start = 8 + headerLength + entry.data_offsets[0];
  return {
    dtype: entry.dtype,
    shape: entry.shape,
    view: new DataView(file.buffer, file.byteOffset + start, entry.data_offsets[1] - entry.data_offsets[0]),
  };
}
