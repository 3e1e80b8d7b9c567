import { createHash, randomBytes, type Hash } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { downloadFile } from "@huggingface/hub";
import { HubError } from "../errors.js";
import { exists } from "./cache-layout.js";
import { isAbort, toHubError } from "./hub-errors.js";
import type { HubSession } from "./hub-session.js";
import type { HubProgress } from "./types.js";

/** What the Hub says identifies a file's contents: its etag (LFS sha256 or git blob sha1) and size. */
export interface FileIdentity {
  etag: string;
  size: number;
}

/** A hasher whose hex digest must equal the etag, when the etag is a content hash we can check. */
function checksumFor(identity: FileIdentity): Hash | null {
  if (/^[0-9a-f]{64}$/.test(identity.etag)) return createHash("sha256");
  if (/^[0-9a-f]{40}$/.test(identity.etag)) return createHash("sha1").update(`blob ${identity.size}\0`);
  return null;
}

/**
 * Downloads a file's contents into `blobs/<etag>`: streamed to a temp file beside it, checked against the
 * size and content hash the Hub gave, then renamed into place, so an interrupted download leaves no blob behind.
 */
export async function downloadBlob(
  session: HubSession,
  commit: string,
  file: string,
  identity: FileIdentity,
  position: Pick<HubProgress, "fileIndex" | "fileCount"> = {},
): Promise<void> {
  const blobPath = session.cache.blobPath(identity.etag);
  if (await exists(blobPath)) return;
  const ctx = { ...session.ctx, file };
  let blob: Blob | null;
  try {
    blob = await downloadFile({
      repo: { type: session.repoType, name: session.repo },
      path: file,
      revision: commit,
      hubUrl: session.hubUrl,
      fetch: session.fetch,
      ...(session.accessToken ? { accessToken: session.accessToken } : {}),
    });
  } catch (error) {
    throw toHubError(error, ctx);
  }
  if (!blob)
    throw new HubError(`The Hub listed ${file} in ${session.repo} at ${commit} but then answered 404 for it.`, {
      statusCode: 404,
    });
  await mkdir(dirname(blobPath), { recursive: true });
  const tmp = `${blobPath}.${randomBytes(4).toString("hex")}.incomplete`;
  const handle = await open(tmp, "w");
  const checksum = checksumFor(identity);
  const report = (loaded: number): void => session.onProgress?.({ file, loaded, total: identity.size, ...position });
  let loaded = 0;
  try {
    report(0);
    const reader = blob.stream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      session.signal?.throwIfAborted();
      await handle.write(value);
      checksum?.update(value);
      loaded += value.byteLength;
      report(loaded);
    }
    await handle.close();
    if (loaded !== identity.size) {
      throw new HubError(
        `${file} of ${session.repo}: received ${loaded} bytes, but the Hub said it has ${identity.size}.`,
      );
    }
    const digest = checksum?.digest("hex");
    if (digest !== undefined && digest !== identity.etag) {
      throw new HubError(
        `${file} of ${session.repo}: the downloaded contents hash to ${digest}, not ${identity.etag} as the Hub said.`,
      );
    }
    await rename(tmp, blobPath);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if (isAbort(error) || session.signal?.aborted) throw session.signal?.reason ?? error;
    throw toHubError(error, ctx);
  }
}
