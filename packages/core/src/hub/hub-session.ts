import { HubError } from "../errors.js";
import { RepoCache } from "./cache-layout.js";
import type { RequestContext } from "./hub-errors.js";
import { isRepoId } from "./repo-id.js";
import { hubSettingsFromEnv } from "./settings.js";
import type { HubOptions, HubProgress, RepoType } from "./types.js";

/** Everything one Hub call needs, with options left out filled from the environment. */
export interface HubSession {
  repo: string;
  repoType: RepoType;
  revision: string;
  offline: boolean;
  cacheDir: string;
  hubUrl: string;
  accessToken: string | undefined;
  /** fetch with the caller's abort signal applied to every request. */
  fetch: typeof fetch;
  signal: AbortSignal | undefined;
  onProgress: ((progress: HubProgress) => void) | undefined;
  cache: RepoCache;
  ctx: RequestContext;
}

export function openSession(repo: string, options: HubOptions): HubSession {
  if (!isRepoId(repo)) {
    throw new HubError(`"${repo}" is not a Hub repo id (expected "org/name") nor an existing local folder.`);
  }
  // Environment defaults are read only for what the caller left out.
  const needsEnv = [options.cacheDir, options.hubUrl, options.offline, options.accessToken].some(
    (v) => v === undefined,
  );
  const env = needsEnv ? hubSettingsFromEnv() : undefined;
  const repoType = options.repoType ?? "model";
  const revision = options.revision ?? "main";
  const hubUrl = (options.hubUrl ?? env?.hubUrl ?? "https://huggingface.co").replace(/\/+$/, "");
  const accessToken = options.accessToken ?? env?.accessToken;
  const cacheDir = options.cacheDir ?? env!.cacheDir; // env is read whenever cacheDir is missing
  const baseFetch = options.fetch ?? fetch;
  const signal = options.signal;
  const session: HubSession = {
    repo,
    repoType,
    revision,
    offline: options.offline ?? env?.offline ?? false,
    cacheDir,
    hubUrl,
    accessToken,
    fetch: signal ? (input, init) => baseFetch(input, { ...init, signal: init?.signal ?? signal }) : baseFetch,
    signal,
    onProgress: options.onProgress,
    cache: new RepoCache(cacheDir, repo, repoType),
    ctx: { repo, repoType, revision, hubUrl, hasToken: Boolean(accessToken) },
  };
  return session;
}

/** The error for a cache miss in offline mode: names the repo, revision and file, and how to fill the cache. */
export function offlineMiss(session: HubSession, detail: string): HubError {
  const rev = session.revision === "main" ? "" : ` --revision ${session.revision}`;
  const type = session.repoType === "dataset" ? " --repo-type dataset" : "";
  return new HubError(
    `Offline mode (HF_HUB_OFFLINE=1 or offline: true): ${detail} in the cache ${session.cacheDir}. ` +
      `Download it once while online: \`llamats download ${session.repo}${rev}${type}\`.`,
  );
}
