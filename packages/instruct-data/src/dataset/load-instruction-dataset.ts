import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@llamats/core';
import { resolveHubDatasetFiles, type DownloadRepo, type ResolveRepoFile } from './hub-dataset-files.js';
import { InvalidDatasetError } from './invalid-dataset-error.js';
import { readRawRecords } from './read-raw-records.js';
import { isChatRecord, isTokenizedRecord, type DatasetFormat, type InstructionRecord, type InvalidRecordReport } from './records.js';
import { validateRecord } from './validate-record.js';

export interface LoadInstructionDatasetOptions {
  /** A .json / .jsonl file, or a directory of them. */
  path?: string;
  /** A Hub dataset repo id (`org/name`), read through core's Hub cache. */
  repo?: string;
  /** Data files of `repo` to read; default: all its JSON/JSONL files. */
  files?: string[];
  format?: DatasetFormat | 'auto';
  /** Keep the valid records and report the rest, instead of throwing InvalidDatasetError. */
  skipInvalid?: boolean;
  revision?: string;
  offline?: boolean;
  cacheDir?: string;
  accessToken?: string;
  hubUrl?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Injectable Hub access for tests; default `@llamats/core`'s. */
  resolveRepoFile?: ResolveRepoFile;
  downloadRepo?: DownloadRepo;
}

export interface LoadedInstructionDataset {
  records: InstructionRecord[];
  invalid: InvalidRecordReport[];
  /** The format asked for, or the one detected (`jsonl` when records of several kinds are mixed). */
  format: DatasetFormat;
  files: string[];
}

async function localDataFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch((error: unknown) => {
    throw new ConfigError(`Dataset path ${path} does not exist`, { key: 'path', cause: error });
  });
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => /\.(jsonl|json|ndjson)$/i.test(n)).sort();
  if (names.length === 0) throw new ConfigError(`Dataset directory ${path} holds no .json or .jsonl file`, { key: 'path' });
  return names.map((n) => join(path, n));
}

const HANGUL = /[\uAC00-\uD7A3]/;

function detectedFormat(records: InstructionRecord[], rawHadText: boolean): DatasetFormat {
  if (records.length === 0) return 'jsonl';
  if (records.every(isChatRecord)) return 'chat';
  if (records.every(isTokenizedRecord)) return 'tokenized';
  if (records.every((r) => !isChatRecord(r) && !isTokenizedRecord(r))) {
    const korean = rawHadText || records.slice(0, 50).some((r) => 'instruction' in r && HANGUL.test(r.instruction));
    return korean ? 'koalpaca' : 'alpaca';
  }
  return 'jsonl';
}

/**
 * Reads and validates an instruction dataset. Every invalid record is reported with its file, line or
 * index, field and problem; unless `skipInvalid`, any invalid record throws InvalidDatasetError.
 */
export async function loadInstructionDataset(options: LoadInstructionDatasetOptions): Promise<LoadedInstructionDataset> {
  if ((options.path === undefined) === (options.repo === undefined)) {
    throw new ConfigError('loadInstructionDataset needs exactly one of path or repo', { key: options.path ? 'repo' : 'path' });
  }
  const files = options.path !== undefined
    ? await localDataFiles(options.path)
    : await resolveHubDatasetFiles({
        repo: options.repo as string, files: options.files, revision: options.revision, offline: options.offline, cacheDir: options.cacheDir,
        accessToken: options.accessToken, hubUrl: options.hubUrl, fetch: options.fetch, signal: options.signal,
        resolveRepoFile: options.resolveRepoFile, downloadRepo: options.downloadRepo,
      });
  const asked = options.format ?? 'auto';
  const validateAs: DatasetFormat = asked === 'auto' ? 'jsonl' : asked;
  const records: InstructionRecord[] = [];
  const invalid: InvalidRecordReport[] = [];
  let sawKoalpacaText = false;
  for (const file of files) {
    options.signal?.throwIfAborted();
    const raw = readRawRecords(await readFile(file, 'utf8'), file);
    invalid.push(...raw.unparsable);
    for (const { value, location } of raw.records) {
      const result = validateRecord(value, validateAs);
      if (result.ok) {
        records.push(result.record);
        if (typeof value === 'object' && value !== null && 'text' in value && !('instruction' in value)) sawKoalpacaText = true;
      } else {
        for (const problem of result.problems) invalid.push({ ...location, ...problem });
      }
    }
  }
  if (invalid.length > 0 && !options.skipInvalid) {
    // One report per record in the count, but every problem listed.
    throw new InvalidDatasetError(invalid, records.length);
  }
  const format = asked === 'auto' ? detectedFormat(records, sawKoalpacaText) : asked;
  return { records, invalid, format, files };
}
