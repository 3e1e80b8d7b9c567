import { randomBytes } from "node:crypto";
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** A temp path beside `path`, so the final rename stays on one filesystem (and so is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Writes a file so that readers see either the old contents or the new, never a half-written file:
 * data goes to a temp file, is flushed to disk, then renamed over the target. Chunks may come from an async source
 * (a model's tensors read one at a time); a source that throws leaves the previous file as it was.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const handle = await open(tmp, "w");
  try {
    if (typeof data === "string" || data instanceof Uint8Array) {
      await handle.writeFile(data);
    } else {
      for await (const chunk of data) await writeAll(handle, chunk);
    }
    await handle.sync();
    await handle.close();
    await rename(tmp, path);
    await syncFolder(dirname(path));
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

/** fs writes may be partial: loop until the whole chunk is on its way to disk. */
async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let done = 0;
  while (done < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.byteLength - done);
    done += bytesWritten;
  }
}

/** Flushes the folder entry so the rename survives a crash; best effort (not possible on every platform). */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, "r");
    await handle.sync().finally(() => handle.close());
  } catch {
    // Windows cannot open a folder for syncing; the rename itself is still atomic.
  }
}
