import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { listFiles, type ListFileEntry } from "@huggingface/hub";
import { HubError } from "../errors.js";
import { exists } from "./cache-layout.js";
import { fetchIntoCache } from "./fetch-into-cache.js";
import { isNetworkFailure, toHubError } from "./hub-errors.js";
import { offlineMiss, openSession, type HubSession } from "./hub-session.js";
import { matchesAnyGlob } from "./glob.js";
import { resolveCommit } from "./resolve-commit.js";
import type { HubOptions } from "./types.js";

export interface DownloadRepoOptions extends HubOptions {
  /** A Hub repo id such as "org/name". */
  repo: string;
  /** Only files matching one of these fnmatch patterns ("*.json", "tokenizer*", "onnx/"); default all. */
  include?: string[];
  /** Skip files matching one of these patterns. */
  exclude?: string[];
}

export interface DownloadedRepo {
  /** The snapshot folder: `<cache>/models--org--name/snapshots/<commit>`. */
  path: string;
  commit: string;
  /** Repo paths of the files now in the snapshot that matched the patterns. */
  files: string[];
}

const wanted =
  (options: DownloadRepoOptions) =>
  (path: string): boolean =>
    matchesAnyGlob(path, options.include) && !(options.exclude?.length && matchesAnyGlob(path, options.exclude));

async function listSnapshot(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listSnapshot(dir, path)));
    else if (await exists(join(dir, path))) out.push(path);
  }
  return out;
}

async function fromCache(session: HubSession, options: DownloadRepoOptions): Promise<DownloadedRepo> {
  const commit = await session.cache.commitFor(session.revision);
  const path = commit ? session.cache.snapshotDir(commit) : null;
  if (!commit || !path || !(await exists(path)))
    throw offlineMiss(session, `${session.repo} at revision "${session.revision}" is not`);
  const files = (await listSnapshot(path)).filter(wanted(options)).sort();
  if (options.include?.length && files.length === 0) {
    throw offlineMiss(
      session,
      `no file of ${session.repo}@${session.revision} matching ${options.include.join(", ")} is`,
    );
  }
  return { path, commit, files };
}

async function listRemote(session: HubSession, commit: string): Promise<ListFileEntry[]> {
  const entries: ListFileEntry[] = [];
  try {
    for await (const entry of listFiles({
      repo: { type: session.repoType, name: session.repo },
      revision: commit,
      recursive: true,
      hubUrl: session.hubUrl,
      fetch: session.fetch,
      ...(session.accessToken ? { accessToken: session.accessToken } : {}),
    })) {
      if (entry.type === "file") entries.push(entry);
    }
  } catch (error) {
    throw toHubError(error, session.ctx);
  }
  return entries;
}

/**
 * Downloads a repo (or the files matching `include`) into the huggingface_hub cache and returns its snapshot
 * folder. The revision is resolved to a commit once and every file is fetched at that commit; files already
 * cached are not downloaded again. Offline, returns the cached snapshot.
 */
export async function downloadRepo(options: DownloadRepoOptions): Promise<DownloadedRepo> {
  const session = openSession(options.repo, options);
  if (session.offline) return fromCache(session, options);
  let commit: string;
  try {
    commit = await resolveCommit(session);
  } catch (error) {
    if (isNetworkFailure(error)) return fromCache(session, options).catch(() => Promise.reject(error));
    throw error;
  }
  const entries = (await listRemote(session, commit)).filter((e) => wanted(options)(e.path));
  if (options.include?.length && entries.length === 0) {
    throw new HubError(
      `No file of ${session.repo} at revision "${session.revision}" matches ${options.include.join(", ")}.`,
    );
  }
  const files: string[] = [];
  for (const [i, entry] of entries.entries()) {
    const etag = entry.lfs?.oid ?? entry.xetHash ?? entry.oid;
    const known = etag ? { etag, size: entry.lfs?.size ?? entry.size } : undefined;
    const path = await fetchIntoCache(session, commit, entry.path, known, {
      fileIndex: i + 1,
      fileCount: entries.length,
    });
    if (path) files.push(entry.path);
  }
  return { path: session.cache.snapshotDir(commit), commit, files: files.sort() };
}
