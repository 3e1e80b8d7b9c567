import { ConfigError } from "@llamats/core";
import { resolveHubDatasetFiles, type DownloadRepo, type ResolveRepoFile } from "./hub-dataset-files.js";
import { InvalidDatasetError } from "./invalid-dataset-error.js";
import { resolveLocalDatasetFiles } from "./local-dataset-files.js";
import { readDataFile } from "./read-data-file.js";
import {
  isChatRecord,
  isTokenizedRecord,
  type DatasetFormat,
  type InstructionRecord,
  type InvalidRecordReport,
} from "./records.js";
import { validateRecord } from "./validate-record.js";

export interface LoadInstructionDatasetOptions {
  /** A .json / .jsonl / .parquet / .csv / .tsv file, or a folder of them. */
  path?: string;
  /** A Hub dataset repo id (`org/name`), read through core's Hub cache. */
  repo?: string;
  /**
   * The split to read from a folder or repo (default `train`), by the Hugging Face `datasets` naming conventions:
   * `data/train-00000-of-00001-….parquet`, a `train/` folder, `train.jsonl`; a dataset that names no split is all train.
   */
  split?: string;
  /** Paths or globs relative to the folder or repo root (`*` crosses folders) that choose the files instead of `split`. */
  dataFiles?: string[];
  /** The same as `dataFiles` (its name before 0.2). */
  files?: string[];
  format?: DatasetFormat | "auto";
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

const HANGUL = /[\uAC00-\uD7A3]/;

function detectedFormat(records: InstructionRecord[], rawHadText: boolean): DatasetFormat {
  if (records.length === 0) return "jsonl";
  if (records.every(isChatRecord)) return "chat";
  if (records.every(isTokenizedRecord)) return "tokenized";
  if (records.every((r) => !isChatRecord(r) && !isTokenizedRecord(r))) {
    const korean = rawHadText || records.slice(0, 50).some((r) => "instruction" in r && HANGUL.test(r.instruction));
    return korean ? "koalpaca" : "alpaca";
  }
  return "jsonl";
}

/**
 * Reads and validates an instruction dataset (JSON, JSON Lines, Parquet, CSV/TSV). Every invalid record is
 * reported with its file, line, index or row, field and problem; unless `skipInvalid`, any invalid record
 * throws InvalidDatasetError. Parquet and CSV files stream; the valid records are kept in memory.
 */
export async function loadInstructionDataset(
  options: LoadInstructionDatasetOptions,
): Promise<LoadedInstructionDataset> {
  if ((options.path === undefined) === (options.repo === undefined)) {
    throw new ConfigError("loadInstructionDataset needs exactly one of path or repo", {
      key: options.path ? "repo" : "path",
    });
  }
  const dataFiles = options.dataFiles ?? options.files;
  if (dataFiles?.length && options.split !== undefined) {
    throw new ConfigError("Give a split or data files, not both: --data-files already chooses the files", {
      key: "split",
    });
  }
  const files =
    options.path !== undefined
      ? await resolveLocalDatasetFiles({ path: options.path, split: options.split, dataFiles })
      : await resolveHubDatasetFiles({
          repo: options.repo as string,
          split: options.split,
          dataFiles,
          revision: options.revision,
          offline: options.offline,
          cacheDir: options.cacheDir,
          accessToken: options.accessToken,
          hubUrl: options.hubUrl,
          fetch: options.fetch,
          signal: options.signal,
          resolveRepoFile: options.resolveRepoFile,
          downloadRepo: options.downloadRepo,
        });
  const asked = options.format ?? "auto";
  const validateAs: DatasetFormat = asked === "auto" ? "jsonl" : asked;
  const records: InstructionRecord[] = [];
  const invalid: InvalidRecordReport[] = [];
  let sawKoalpacaText = false;
  for (const file of files) {
    options.signal?.throwIfAborted();
    for await (const item of readDataFile(file, { signal: options.signal })) {
      if ("invalid" in item) {
        invalid.push(item.invalid);
        continue;
      }
      const { value, location } = item;
      const result = validateRecord(value, validateAs);
      if (result.ok) {
        records.push(result.record);
        if (typeof value === "object" && value !== null && "text" in value && !("instruction" in value))
          sawKoalpacaText = true;
      } else {
        for (const problem of result.problems) invalid.push({ ...location, ...problem });
      }
    }
  }
  if (invalid.length > 0 && !options.skipInvalid) {
    // One report per record in the count, but every problem listed.
    throw new InvalidDatasetError(invalid, records.length);
  }
  const format = asked === "auto" ? detectedFormat(records, sawKoalpacaText) : asked;
  return { records, invalid, format, files };
}
