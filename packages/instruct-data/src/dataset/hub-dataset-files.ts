import { join } from 'node:path';
import { ConfigError, downloadRepo as coreDownloadRepo, resolveRepoFile as coreResolveRepoFile, type HubOptions } from '@llamats/core';

/** Core's `resolveRepoFile`: one repo file → a local path in the Hub cache, or null when the repo lacks it. */
export type ResolveRepoFile = (options: HubOptions & { repo: string; file: string }) => Promise<string | null>;

/** Core's `downloadRepo`: the repo files matching `include`, into the Hub cache. */
export type DownloadRepo = (options: HubOptions & { repo: string; include?: string[] }) => Promise<{ path: string; files: string[] }>;

export interface HubDatasetFilesOptions extends Omit<HubOptions, 'repoType'> {
  repo: string;
  /** Data files to take; default: every .json / .jsonl / .ndjson of the repo. */
  files?: string[];
  /** Injectable for tests; default `@llamats/core`'s. */
  resolveRepoFile?: ResolveRepoFile;
  downloadRepo?: DownloadRepo;
}

const DATA_FILE_PATTERNS = ['*.json', '*.jsonl', '*.ndjson'];

// Metadata files that are JSON but hold no records.
function isDataFile(path: string): boolean {
  return /\.(jsonl|json|ndjson)$/i.test(path) && !/(^|\/)(dataset_infos?|dataset_dict|state|config)\.json$/i.test(path);
}

/** Local paths of a Hub dataset repo's JSON/JSONL data files, fetched through core's Hub cache. */
export async function resolveHubDatasetFiles(options: HubDatasetFilesOptions): Promise<string[]> {
  const { files, resolveRepoFile = coreResolveRepoFile, downloadRepo = coreDownloadRepo, ...hub } = options;
  const common = { ...hub, repoType: 'dataset' as const };
  if (files && files.length > 0) {
    const paths: string[] = [];
    for (const file of files) {
      const path = await resolveRepoFile({ ...common, file });
      if (!path) throw new ConfigError(`Dataset repo ${options.repo} has no file ${file}`, { key: 'files' });
      paths.push(path);
    }
    return paths;
  }
  const snapshot = await downloadRepo({ ...common, include: DATA_FILE_PATTERNS });
  const dataFiles = snapshot.files.filter(isDataFile).sort();
  if (dataFiles.length === 0) {
    throw new ConfigError(`Dataset repo ${options.repo} has no JSON or JSONL data file (parquet is not read); convert it or name a file`, { key: 'repo' });
  }
  return dataFiles.map((file) => join(snapshot.path, file));
}
