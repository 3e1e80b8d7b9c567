import { openAsBlob } from "node:fs";
import { commitIter, createBranch, createRepo, HubApiError, type CommitOperation } from "@huggingface/hub";
import { ConfigError, HubError } from "../errors.js";
import { toHubError, type RequestContext } from "./hub-errors.js";
import { DEFAULT_PUSH_EXCLUDE, listPushFiles } from "./push-file-list.js";
import { isRepoId, repoPageUrl } from "./repo-id.js";
import { hubSettingsFromEnv } from "./settings.js";
import type { RepoType } from "./types.js";

/** One progress report of a push: a file being hashed (for LFS) or uploaded. */
export interface PushProgress {
  /** Path of the file in the repo. */
  file: string;
  phase: "hashing" | "uploading";
  /** Bytes of this file done so far in this phase. */
  loaded: number;
  /** Size of this file in bytes. */
  total: number;
  /** 1-based position of the file among those pushed. */
  fileIndex: number;
  fileCount: number;
}

export interface PushToHubOptions {
  /** The local folder to upload (an adapter or model folder). */
  dir: string;
  /** "user/name" or "org/name"; created when missing. */
  repo: string;
  repoType?: RepoType;
  /** Make the repo private when this push creates it (an existing repo keeps its visibility). */
  private?: boolean;
  /** The branch to commit to (default "main"); created from main when missing. */
  revision?: string;
  commitMessage?: string;
  commitDescription?: string;
  /** Files pushed besides (or instead of) the folder's own, e.g. a generated README.md; the folder is not touched. */
  extraFiles?: Record<string, string | Uint8Array>;
  /** Glob patterns of folder paths to leave out (default `checkpoint-*\/`: the trainer's resume state). */
  exclude?: readonly string[];
  /** A Hugging Face token with write access (`HF_TOKEN`); default from the environment. */
  accessToken?: string;
  hubUrl?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  onProgress?: (progress: PushProgress) => void;
}

export interface PushResult {
  /** The repo's page. */
  repoUrl: string;
  /** True when this push created the repo. */
  created: boolean;
  commit: string;
  commitUrl: string;
  /** Repo paths of the files in the commit. */
  files: string[];
}

/**
 * Checks what can be checked before any work: a "user/name" repo id and a token. Callers that push after a long
 * run (finetune --push-to-hub) call it first, so a typo fails in a second rather than after training. Returns the token.
 */
export function checkPushTarget(options: { repo: string; accessToken: string | undefined }): string {
  if (!isRepoId(options.repo) || !options.repo.includes("/"))
    throw new ConfigError(`"${options.repo}" is not a Hub repo id to push to; expected "user/name" or "org/name".`, {
      key: "repo",
    });
  if (!options.accessToken)
    throw new HubError(
      `Pushing to ${options.repo} needs a Hugging Face access token with write access: create one with the Write role at https://huggingface.co/settings/tokens, then set HF_TOKEN=hf_… (or run \`huggingface-cli login\`).`,
    );
  return options.accessToken;
}

/** Creates the repo, or leaves it as it is when it exists (HTTP 409); returns whether it was created. */
async function ensureRepo(options: PushToHubOptions, common: CommonParams, type: RepoType): Promise<boolean> {
  try {
    await createRepo({
      ...common,
      repo: { type, name: options.repo },
      ...(options.private === undefined ? {} : { visibility: options.private ? "private" : "public" }),
    });
    return true;
  } catch (error) {
    if (error instanceof HubApiError && error.statusCode === 409) return false;
    throw error;
  }
}

async function ensureBranch(repo: string, branch: string, common: CommonParams, type: RepoType): Promise<void> {
  try {
    await createBranch({ ...common, repo: { type, name: repo }, branch });
  } catch (error) {
    if (!(error instanceof HubApiError && error.statusCode === 409)) throw error;
  }
}

interface CommonParams {
  accessToken: string;
  hubUrl: string;
  fetch: typeof fetch;
}

/**
 * Uploads a folder to a Hub repo in one commit, creating the repo (and branch) when missing. Large files go through
 * LFS as the Hub decides; objects the Hub already holds (from an earlier, interrupted push) are not sent again.
 */
export async function pushToHub(options: PushToHubOptions): Promise<PushResult> {
  const env = options.accessToken === undefined || options.hubUrl === undefined ? hubSettingsFromEnv() : undefined;
  const accessToken = checkPushTarget({ repo: options.repo, accessToken: options.accessToken ?? env?.accessToken });
  const hubUrl = (options.hubUrl ?? env?.hubUrl ?? "https://huggingface.co").replace(/\/+$/, "");
  const type = options.repoType ?? "model";
  const branch = options.revision ?? "main";
  const baseFetch = options.fetch ?? fetch;
  const signal = options.signal;
  const common: CommonParams = {
    accessToken,
    hubUrl,
    fetch: signal ? (input, init) => baseFetch(input, { ...init, signal: init?.signal ?? signal }) : baseFetch,
  };
  const ctx: RequestContext = {
    repo: options.repo,
    repoType: type,
    revision: branch,
    hubUrl,
    hasToken: true,
    action: "push",
  };

  const local = await listPushFiles(options.dir, options.exclude ?? DEFAULT_PUSH_EXCLUDE);
  const extra = Object.entries(options.extraFiles ?? {}).map(([path, contents]) => ({
    path,
    // A copy into a fresh ArrayBuffer: Blob takes no view of a possibly shared buffer.
    blob: new Blob([typeof contents === "string" ? contents : new Uint8Array(contents)]),
  }));
  const files = [
    ...(await Promise.all(
      local
        .filter((f) => !(f.path in (options.extraFiles ?? {})))
        .map(async (f) => ({ path: f.path, blob: await openAsBlob(f.source) })),
    )),
    ...extra,
  ].sort((a, b) => a.path.localeCompare(b.path));
  if (files.length === 0)
    throw new ConfigError(`${options.dir} has no files to push (hidden files and checkpoint folders are left out).`, {
      key: "dir",
    });
  const position = new Map(files.map((f, i) => [f.path, { index: i + 1, size: f.blob.size }]));
  const operations: CommitOperation[] = files.map((f) => ({ operation: "addOrUpdate", path: f.path, content: f.blob }));

  try {
    const created = await ensureRepo(options, common, type);
    if (branch !== "main") await ensureBranch(options.repo, branch, common, type);
    const commits = commitIter({
      ...common,
      repo: { type, name: options.repo },
      operations,
      title: options.commitMessage ?? `Upload ${files.length} file${files.length === 1 ? "" : "s"} with llamats`,
      ...(options.commitDescription ? { description: options.commitDescription } : {}),
      branch,
      ...(signal ? { abortSignal: signal } : {}),
    });
    const report = (file: string, phase: PushProgress["phase"], fraction: number): void => {
      const at = position.get(file);
      if (!at) return;
      const loaded = Math.round(fraction * at.size);
      if (phase === "uploading" && loaded === at.size) finished.add(file);
      options.onProgress?.({ file, phase, loaded, total: at.size, fileIndex: at.index, fileCount: files.length });
    };
    const finished = new Set<string>();
    let step = await commits.next();
    while (!step.done) {
      const event = step.value;
      if (event.event === "fileProgress" && event.state !== "error") report(event.path, event.state, event.progress);
      step = await commits.next();
    }
    // Small files travel inside the commit request, which reports no progress of its own in Node.
    for (const f of files) if (!finished.has(f.path)) report(f.path, "uploading", 1);
    const output = step.value;
    return {
      repoUrl: repoPageUrl(hubUrl, options.repo, type),
      created,
      commit: output?.commit.oid ?? "",
      commitUrl: output?.commit.url ?? "",
      files: files.map((f) => f.path),
    };
  } catch (error) {
    throw toHubError(error, ctx);
  }
}
