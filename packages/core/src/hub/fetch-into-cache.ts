import { pathsInfo } from "@huggingface/hub";
import { downloadBlob, type FileIdentity } from "./download-blob.js";
import { toHubError } from "./hub-errors.js";
import type { HubSession } from "./hub-session.js";
import type { HubProgress } from "./types.js";

/** The Hub's identity of one file at a commit, or null when the repo has no such file. */
async function identify(session: HubSession, commit: string, file: string): Promise<FileIdentity | null> {
  let entries: Awaited<ReturnType<typeof pathsInfo>>;
  try {
    entries = await pathsInfo({
      repo: { type: session.repoType, name: session.repo },
      paths: [file],
      revision: commit,
      hubUrl: session.hubUrl,
      fetch: session.fetch,
      ...(session.accessToken ? { accessToken: session.accessToken } : {}),
    });
  } catch (error) {
    throw toHubError(error, { ...session.ctx, file });
  }
  const entry = entries.find((e) => e.path === file && e.type === "file");
  if (!entry) return null;
  // The same etag choice as huggingface_hub: the LFS sha256 where there is one, else the git blob id.
  const etag = entry.lfs?.oid ?? entry.xetHash ?? entry.oid;
  if (!etag) return null;
  return { etag, size: entry.lfs?.size ?? entry.size };
}

/**
 * Makes `snapshots/<commit>/<file>` exist (downloading its blob if no snapshot has it yet) and returns its path;
 * null when the Hub says the file does not exist at that commit (remembered in `.no_exist`, as huggingface_hub does).
 */
export async function fetchIntoCache(
  session: HubSession,
  commit: string,
  file: string,
  known?: FileIdentity,
  position?: Pick<HubProgress, "fileIndex" | "fileCount">,
): Promise<string | null> {
  const cached = await session.cache.cachedFile(commit, file);
  if (cached) return cached;
  const identity = known ?? (await identify(session, commit, file));
  if (!identity) {
    await session.cache.markMissing(commit, file);
    return null;
  }
  await downloadBlob(session, commit, file, identity, position);
  return session.cache.link(commit, file, identity.etag);
}
