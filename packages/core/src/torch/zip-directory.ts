// The central directory of a zip archive (what torch.save has written since PyTorch 1.6), read with positioned reads:
// only the directory is loaded, never the archive. Zip64 (archives or entries over 4 GiB) is supported.
import type { FileHandle } from "node:fs/promises";
import { FormatError } from "../errors.js";

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated (the only two accepted). */
  method: number;
  compressedSize: number;
  size: number;
  /** Where the entry's local header starts; its data follows that header's name and extra fields. */
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
// A checkpoint's directory is a few entries per tensor: anything this large is not one.
const MAX_DIRECTORY_BYTES = 256 * 1024 * 1024;

/** Reads exactly `length` bytes at `position`, or fails naming the file. */
export async function readExactly(
  handle: FileHandle,
  file: string,
  position: number,
  length: number,
  what: string,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, position + done);
    if (bytesRead === 0)
      throw new FormatError(`${file}: the file ended inside ${what} (needed bytes ${position}–${position + length}).`, {
        file,
      });
    done += bytesRead;
  }
  return bytes;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A 64-bit zip field as a safe JS number (a checkpoint never nears 2^53 bytes). */
function uint64(data: DataView, offset: number, file: string): number {
  const value = data.getBigUint64(offset, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new FormatError(`${file}: a zip64 size or offset (${value}) is too large to be real.`, { file });
  return Number(value);
}

interface DirectoryLocation {
  count: number;
  offset: number;
  size: number;
}

/** Finds the end-of-central-directory record (and its zip64 form when the 32-bit fields overflow). */
async function locateDirectory(handle: FileHandle, file: string, fileSize: number): Promise<DirectoryLocation> {
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tailStart = fileSize - tailLength;
  const tail = await readExactly(handle, file, tailStart, tailLength, "the zip trailer");
  const data = view(tail);
  let at = -1;
  for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
    if (data.getUint32(i, true) === EOCD_SIGNATURE && i + EOCD_SIZE + data.getUint16(i + 20, true) <= tailLength) {
      at = i;
      break;
    }
  }
  if (at < 0)
    throw new FormatError(`${file}: no zip end-of-central-directory record; the archive is truncated or not a zip.`, {
      file,
    });
  let count = data.getUint16(at + 10, true);
  let size = data.getUint32(at + 12, true);
  let offset = data.getUint32(at + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locatorAt = tailStart + at - 20;
    if (locatorAt < 0)
      throw new FormatError(`${file}: the zip trailer asks for zip64 but has no zip64 locator.`, { file });
    const locator = view(await readExactly(handle, file, locatorAt, 20, "the zip64 locator"));
    if (locator.getUint32(0, true) !== ZIP64_LOCATOR_SIGNATURE)
      throw new FormatError(`${file}: the zip trailer asks for zip64 but has no zip64 locator.`, { file });
    const recordAt = uint64(locator, 8, file);
    const record = view(await readExactly(handle, file, recordAt, 56, "the zip64 end-of-central-directory record"));
    if (record.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE)
      throw new FormatError(`${file}: the zip64 locator points at byte ${recordAt}, which is not a zip64 record.`, {
        file,
      });
    count = uint64(record, 32, file);
    size = uint64(record, 40, file);
    offset = uint64(record, 48, file);
  }
  if (offset + size > fileSize || size > MAX_DIRECTORY_BYTES) {
    throw new FormatError(
      `${file}: the zip directory claims bytes ${offset}–${offset + size}, but the file has ${fileSize}.`,
      { file },
    );
  }
  return { count, offset, size };
}

/** Sizes and offset that overflowed 32 bits are in the zip64 extra field (id 1), in this order. */
function applyZip64Extra(entry: ZipEntry, extra: DataView, file: string): void {
  let at = 0;
  while (at + 4 <= extra.byteLength) {
    const id = extra.getUint16(at, true);
    const length = extra.getUint16(at + 2, true);
    if (id === 0x0001) {
      let field = at + 4;
      const next = (): number => {
        if (field + 8 > at + 4 + length)
          throw new FormatError(`${file}: entry "${entry.name}" has a short zip64 extra field.`, { file });
        const value = uint64(extra, field, file);
        field += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
      return;
    }
    at += 4 + length;
  }
}

/** Every entry of the archive by name, from its central directory. */
export async function readZipDirectory(
  handle: FileHandle,
  file: string,
  fileSize: number,
): Promise<Map<string, ZipEntry>> {
  const location = await locateDirectory(handle, file, fileSize);
  const bytes = await readExactly(handle, file, location.offset, location.size, "the zip central directory");
  const data = view(bytes);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder("utf-8", { fatal: false });
  let at = 0;
  for (let i = 0; i < location.count; i++) {
    if (at + 46 > bytes.byteLength || data.getUint32(at, true) !== CENTRAL_SIGNATURE) {
      throw new FormatError(`${file}: zip directory entry ${i} of ${location.count} is missing or corrupt.`, { file });
    }
    const flags = data.getUint16(at + 8, true);
    const nameLength = data.getUint16(at + 28, true);
    const extraLength = data.getUint16(at + 30, true);
    const commentLength = data.getUint16(at + 32, true);
    if (at + 46 + nameLength + extraLength > bytes.byteLength)
      throw new FormatError(`${file}: zip directory entry ${i} runs past the directory.`, { file });
    const entry: ZipEntry = {
      name: decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      method: data.getUint16(at + 10, true),
      compressedSize: data.getUint32(at + 20, true),
      size: data.getUint32(at + 24, true),
      localHeaderOffset: data.getUint32(at + 42, true),
    };
    applyZip64Extra(entry, new DataView(bytes.buffer, bytes.byteOffset + at + 46 + nameLength, extraLength), file);
    if (flags & 0x1) throw new FormatError(`${file}: zip entry "${entry.name}" is encrypted.`, { file });
    entries.set(entry.name, entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
