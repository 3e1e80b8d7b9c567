// An open zip archive whose entries are read by byte range: a stored entry reads only the bytes asked for,
// a deflated one is inflated whole (torch.save stores, but re-zipped checkpoints may deflate).
import { open, type FileHandle } from "node:fs/promises";
import { inflateRawSync } from "node:zlib";
import { FormatError } from "../errors.js";
import { readExactly, readZipDirectory, type ZipEntry } from "./zip-directory.js";

const LOCAL_SIGNATURE = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

export class ZipArchive {
  private readonly dataOffsets = new Map<string, number>();

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly size: number,
    readonly entries: Map<string, ZipEntry>,
  ) {}

  /** Opens the file and reads its central directory; `firstBytes` lets the caller recognise other formats first. */
  static async open(path: string, options: { check?: (firstBytes: Uint8Array) => void } = {}): Promise<ZipArchive> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (cause) {
      throw new FormatError(`${path}: cannot open (${(cause as Error).message}).`, { file: path, cause });
    }
    try {
      const { size } = await handle.stat();
      const head = await readExactly(handle, path, 0, Math.min(size, 64), "the first bytes");
      options.check?.(head);
      return new ZipArchive(path, handle, size, await readZipDirectory(handle, path, size));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  entry(name: string): ZipEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new FormatError(`${this.path}: the archive has no entry "${name}".`, { file: this.path });
    return entry;
  }

  /** Where an entry's data starts: after its local header, whose extra field (torch pads it to align data) may differ from the directory's. */
  private async dataOffset(entry: ZipEntry): Promise<number> {
    const known = this.dataOffsets.get(entry.name);
    if (known !== undefined) return known;
    const header = await readExactly(
      this.handle,
      this.path,
      entry.localHeaderOffset,
      30,
      `the local header of "${entry.name}"`,
    );
    const data = new DataView(header.buffer, header.byteOffset, 30);
    if (data.getUint32(0, true) !== LOCAL_SIGNATURE) {
      throw new FormatError(
        `${this.path}: entry "${entry.name}" points at byte ${entry.localHeaderOffset}, where there is no zip local header.`,
        { file: this.path },
      );
    }
    const offset = entry.localHeaderOffset + 30 + data.getUint16(26, true) + data.getUint16(28, true);
    if (offset + entry.compressedSize > this.size) {
      throw new FormatError(
        `${this.path}: entry "${entry.name}" needs bytes ${offset}–${offset + entry.compressedSize}, but the file has ${this.size}.`,
        {
          file: this.path,
        },
      );
    }
    this.dataOffsets.set(entry.name, offset);
    return offset;
  }

  /** `length` bytes of an entry's uncompressed contents from `start` (default: all of it). */
  async read(name: string, start = 0, length?: number): Promise<Uint8Array> {
    const entry = this.entry(name);
    const count = length ?? entry.size - start;
    if (start < 0 || count < 0 || start + count > entry.size) {
      throw new FormatError(
        `${this.path}: asked for bytes ${start}–${start + count} of entry "${name}", which has ${entry.size}.`,
        { file: this.path },
      );
    }
    const offset = await this.dataOffset(entry);
    if (entry.method === STORED) {
      if (entry.compressedSize !== entry.size) {
        throw new FormatError(
          `${this.path}: stored entry "${name}" has ${entry.compressedSize} bytes but says it holds ${entry.size}.`,
          { file: this.path },
        );
      }
      return readExactly(this.handle, this.path, offset + start, count, `entry "${name}"`);
    }
    if (entry.method !== DEFLATED) {
      throw new FormatError(
        `${this.path}: entry "${name}" uses zip compression method ${entry.method}; only stored (0) and deflated (8) are read.`,
        {
          file: this.path,
        },
      );
    }
    const compressed = await readExactly(this.handle, this.path, offset, entry.compressedSize, `entry "${name}"`);
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(compressed);
    } catch (cause) {
      throw new FormatError(`${this.path}: deflated entry "${name}" is corrupt (${(cause as Error).message}).`, {
        file: this.path,
        cause,
      });
    }
    if (inflated.byteLength !== entry.size) {
      throw new FormatError(
        `${this.path}: entry "${name}" inflates to ${inflated.byteLength} bytes, but the directory says ${entry.size}.`,
        { file: this.path },
      );
    }
    return start === 0 && count === entry.size ? inflated : inflated.subarray(start, start + count);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
