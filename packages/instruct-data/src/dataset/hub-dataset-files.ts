import { join } from "node:path";
import {
  ConfigError,
  HubError,
  downloadRepo as coreDownloadRepo,
  matchesAnyGlob,
  resolveRepoFile as coreResolveRepoFile,
  type HubOptions,
} from "@llamats/core";
import { isGlob, matchDataFiles } from "./match-data-files.js";
import { SPLIT_KEYWORDS, selectSplitFiles, splitsOf } from "./split-files.js";

/** Core's `resolveRepoFile`: one repo file → a local path in the Hub cache, or null when the repo lacks it. */
export type ResolveRepoFile = (options: HubOptions & { repo: string; file: string }) => Promise<string | null>;

/** Core's `downloadRepo`: the repo files matching `include`, into the Hub cache. */
export type DownloadRepo = (
  options: HubOptions & { repo: string; include?: string[] },
) => Promise<{ path: string; files: string[] }>;

export interface HubDatasetFilesOptions extends Omit<HubOptions, "repoType"> {
  repo: string;
  /** The split to read (default `train`), found by the `datasets` naming conventions; see `selectSplitFiles`. */
  split?: string;
  /** Repo paths or globs (`*` crosses folders) that choose the files instead of `split`. */
  dataFiles?: string[];
  /** The same as `dataFiles` (its name before 0.2). */
  files?: string[];
  /** Injectable for tests; default `@llamats/core`'s. */
  resolveRepoFile?: ResolveRepoFile;
  downloadRepo?: DownloadRepo;
}

const DATA_EXTENSIONS = ["parquet", "json", "jsonl", "ndjson", "csv", "tsv"];
const ALL_DATA_FILES = DATA_EXTENSIONS.map((e) => `*.${e}`);

// Data files whose path holds a keyword of the split: a superset of the split's files, so other splits stay on the Hub.
function likelySplitFiles(split: string): string[] {
  return (SPLIT_KEYWORDS[split] ?? [split]).flatMap((k) => DATA_EXTENSIONS.map((e) => `*${k}*.${e}`));
}

type Snapshot = { path: string; files: string[] };

/** Downloads the repo files matching `include`; core's error (naming the patterns, or what offline mode lacks) when none does. */
async function downloadMatching(
  download: DownloadRepo,
  options: HubOptions & { repo: string },
  include: string[],
): Promise<Snapshot> {
  const snapshot = await download({ ...options, include });
  // An injected downloadRepo may ignore `include`.
  return { path: snapshot.path, files: snapshot.files.filter((f) => matchesAnyGlob(f, include)) };
}

/**
 * As downloadMatching, but null when no file matches: core says so with a HubError without an HTTP status (also
 * for an offline cache miss, which the full download that follows reports). Refusals and missing repos are thrown.
 */
async function downloadIfAny(
  download: DownloadRepo,
  options: HubOptions & { repo: string },
  include: string[],
): Promise<Snapshot | null> {
  try {
    return await downloadMatching(download, options, include);
  } catch (error) {
    if (HubError.isInstance(error) && (error as HubError).statusCode === undefined && !options.signal?.aborted)
      return null;
    throw error;
  }
}

async function exactFile(
  resolve: ResolveRepoFile,
  options: HubOptions & { repo: string },
  file: string,
): Promise<string> {
  const path = await resolve({ ...options, file });
  if (!path) throw new ConfigError(`Dataset repo ${options.repo} has no file ${file}`, { key: "data-files" });
  return path;
}

/**
 * Local paths (in core's Hub cache) of one split of a Hub dataset repo, or of the files `dataFiles` names. Only the
 * files of the split are downloaded where the repo names its splits: first the data files whose path holds the
 * split's keywords, then, when those settle nothing, all data files to apply the conventions to the whole repo.
 */
export async function resolveHubDatasetFiles(options: HubDatasetFilesOptions): Promise<string[]> {
  const {
    split,
    dataFiles: asked,
    files,
    resolveRepoFile = coreResolveRepoFile,
    downloadRepo = coreDownloadRepo,
    ...hub
  } = options;
  const common = { ...hub, repoType: "dataset" as const };
  const dataFiles = asked ?? files;
  const source = `Dataset repo ${options.repo}`;
  if (dataFiles && dataFiles.length > 0) {
    // Globs need the repo's file list (one download of what they match); plain paths are fetched one by one.
    const globs = dataFiles.filter(isGlob);
    const snapshot = globs.length > 0 ? await downloadMatching(downloadRepo, common, globs) : null;
    const paths = new Set<string>();
    for (const entry of dataFiles) {
      if (!isGlob(entry)) paths.add(await exactFile(resolveRepoFile, common, entry));
      else if (snapshot)
        for (const f of matchDataFiles(snapshot.files, [entry], source)) paths.add(join(snapshot.path, f));
    }
    return [...paths];
  }
  const wanted = split ?? "train";
  const narrow = await downloadIfAny(downloadRepo, common, likelySplitFiles(wanted));
  const named = narrow ? splitsOf(narrow.files) : null;
  // "No convention" on a partial list proves nothing: the files without the keyword may be the train split too.
  if (narrow && named && named.convention !== "none" && named.files.has(wanted)) {
    return selectSplitFiles(narrow.files, wanted, source).files.map((f) => join(narrow.path, f));
  }
  const all = await downloadMatching(downloadRepo, common, ALL_DATA_FILES);
  return selectSplitFiles(all.files, wanted, source).files.map((f) => join(all.path, f));
}
