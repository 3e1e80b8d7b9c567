import { stat } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { COMMIT_SHA } from "./cache-layout.js";
import { fetchIntoCache } from "./fetch-into-cache.js";
import { isNetworkFailure } from "./hub-errors.js";
import { offlineMiss, openSession, type HubSession } from "./hub-session.js";
import { expandLocalPath, isLocalPath } from "./repo-id.js";
import { resolveCommit } from "./resolve-commit.js";
import type { HubOptions } from "./types.js";

export interface ResolveRepoFileOptions extends HubOptions {
  /** A local folder, or a Hub repo id such as "org/name". */
  repo: string;
  /** Path of the file inside the folder or repo, e.g. "config.json". */
  file: string;
}

async function localFile(dir: string, file: string): Promise<string | null> {
  const folder = expandLocalPath(dir);
  const info = await stat(folder).catch(() => null);
  if (!info?.isDirectory()) {
    throw new ConfigError(
      `${dir} is not a folder${info ? "" : " (it does not exist)"}; give a model folder or a Hub repo id such as "org/name".`,
      {
        key: "repo",
      },
    );
  }
  const path = join(folder, file);
  return (await stat(path).catch(() => null))?.isFile() ? path : null;
}

/** The cached file, or null if the cache knows the repo has no such file; throws naming what is missing. */
async function fromCache(session: HubSession, file: string): Promise<string | null> {
  const commit = await session.cache.commitFor(session.revision);
  if (!commit) throw offlineMiss(session, `${session.repo} at revision "${session.revision}" is not`);
  const cached = await session.cache.cachedFile(commit, file);
  if (cached) return cached;
  if (await session.cache.isKnownMissing(commit, file)) return null;
  throw offlineMiss(session, `${file} of ${session.repo} at revision "${session.revision}" (commit ${commit}) is not`);
}

/**
 * A local path for `file` of a local folder or a Hub repo. For a folder: the file's path, or null if it has none.
 * For a repo id: the file in the huggingface_hub cache (downloaded once, at the commit the revision points to),
 * or null when the Hub says the repo has no such file. Offline, only the cache is used.
 */
export async function resolveRepoFile(options: ResolveRepoFileOptions): Promise<string | null> {
  const { repo, file } = options;
  if (isLocalPath(repo)) return localFile(repo, file);
  const session = openSession(repo, options);
  if (session.offline) return fromCache(session, file);
  // A pinned commit already in the cache needs no request at all.
  if (COMMIT_SHA.test(session.revision)) {
    const cached = await session.cache.cachedFile(session.revision, file);
    if (cached) return cached;
    if (await session.cache.isKnownMissing(session.revision, file)) return null;
  }
  let commit: string;
  try {
    commit = await resolveCommit(session);
  } catch (error) {
    // Hub unreachable: a cached copy is still good (as huggingface_hub does).
    if (isNetworkFailure(error)) return fromCache(session, file).catch(() => Promise.reject(error));
    throw error;
  }
  return fetchIntoCache(session, commit, file);
}
