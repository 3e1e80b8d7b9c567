import * as core from '@llamats/core';
import { ConfigError } from '@llamats/core';

/** Core's Hub file resolution: a repo file → a local path, or null when the repo has no such file. */
export type ResolveRepoFile = (options: {
  repo: string;
  file: string;
  repoType?: 'model' | 'dataset';
  revision?: string;
  offline?: boolean;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}) => Promise<string | null>;

/** Core's listing of a repo's files (paths relative to the repo root). */
export type ListRepoFiles = (options: { repo: string; repoType?: 'model' | 'dataset'; revision?: string; offline?: boolean; fetch?: typeof fetch; signal?: AbortSignal }) => Promise<string[]>;

export interface HubDatasetFilesOptions {
  repo: string;
  /** Data files to take; default: every .json/.jsonl of the repo (or well-known names when it cannot be listed). */
  files?: string[];
  revision?: string;
  offline?: boolean;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Injectable for tests; defaults to `@llamats/core`'s. */
  resolveRepoFile?: ResolveRepoFile;
  listRepoFiles?: ListRepoFiles;
}

// Tried in order when the repo cannot be listed.
const WELL_KNOWN_FILES = ['train.jsonl', 'train.json', 'data.jsonl', 'data.json', 'data/train.jsonl', 'data/train.json'];

// Core grows its Hub API while this package is built; look the functions up at run time.
function coreFunction<T>(name: string): T | undefined {
  const value = (core as unknown as Record<string, unknown>)[name];
  return typeof value === 'function' ? (value as T) : undefined;
}

function isDataFile(path: string): boolean {
  return /\.(jsonl|json|ndjson)$/i.test(path) && !/(^|\/)(dataset_infos?|config|README|\.gitattributes)/i.test(path);
}

/** Local paths of a Hub dataset repo's JSON/JSONL files, downloaded through core's Hub cache. */
export async function resolveHubDatasetFiles(options: HubDatasetFilesOptions): Promise<string[]> {
  const resolve = options.resolveRepoFile ?? coreFunction<ResolveRepoFile>('resolveRepoFile');
  if (!resolve) throw new ConfigError('Loading a dataset from the Hub needs resolveRepoFile from @llamats/core, which this build lacks', { key: 'repo' });
  const common = { repo: options.repo, repoType: 'dataset' as const, revision: options.revision, offline: options.offline, fetch: options.fetch, signal: options.signal };
  let candidates = options.files;
  let explicit = candidates !== undefined;
  if (!candidates) {
    const list = options.listRepoFiles ?? coreFunction<ListRepoFiles>('listRepoFiles');
    if (list) {
      candidates = (await list(common)).filter(isDataFile).sort();
      explicit = true;
    } else {
      const name = options.repo.split('/').pop() ?? options.repo;
      candidates = [...WELL_KNOWN_FILES, `${name}.json`, `${name}.jsonl`];
    }
  }
  const paths: string[] = [];
  for (const file of candidates) {
    const path = await resolve({ ...common, file });
    if (path) {
      paths.push(path);
      if (!explicit) break;
    } else if (explicit) {
      throw new ConfigError(`Dataset repo ${options.repo} has no file ${file}`, { key: 'files' });
    }
  }
  if (paths.length === 0) {
    throw new ConfigError(`Dataset repo ${options.repo} has no JSON or JSONL data file (tried ${candidates.join(', ')}); name one with files`, { key: 'repo' });
  }
  return paths;
}
