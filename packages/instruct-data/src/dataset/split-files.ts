import { ConfigError } from "@llamats/core";
import { dataFileKind } from "./read-data-file.js";

/** Which of the Hugging Face `datasets` naming conventions decided the splits. */
export type SplitConvention = "sharded" | "directory" | "filename" | "none";

export interface SplitFiles {
  /** The files of the split asked for, sorted. */
  files: string[];
  /** Every split the files name, `train`, `validation`, `test` first. */
  splits: string[];
  convention: SplitConvention;
}

// The `datasets` library's keywords (data_files.py); a keyword counts between separators.
export const SPLIT_KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  train: ["train", "training"],
  validation: ["validation", "valid", "dev", "val"],
  test: ["test", "testing", "eval", "evaluation"],
};
const DEFAULT_SPLITS = ["train", "validation", "test"];
const SEP = "[-._ 0-9]";
// `data/{split}-00000-of-00001[-hash].parquet`, as `push_to_hub` writes them.
const SHARDED = /^data\/([^/]+?)-\d{5}-of-\d{5}[^/]*\.[^/]+$/;
const METADATA = /(^|\/)(dataset_infos?|dataset_dict|state|config)\.json$/i;

function keywordPattern(keyword: string, wholeName: boolean): RegExp {
  // A directory may be named just "train"; a file name needs a separator after the keyword ("train.json").
  return new RegExp(`^(?:.*${SEP})?${keyword}${wholeName ? `(?:${SEP}.*)?` : `${SEP}.*`}$`);
}

/** Hidden (`.`) and special (`__`) folders and files are not data, as in `datasets`. */
function isHidden(path: string): boolean {
  return path.split("/").some((part) => part.startsWith(".") || part.startsWith("__"));
}

/** A repo or folder path that holds records: a data extension, not hidden, not a `datasets` metadata file. */
export function isDataFilePath(path: string): boolean {
  return dataFileKind(path) !== null && !isHidden(path) && !METADATA.test(path);
}

function inDirectoryNamed(path: string, keyword: string): boolean {
  const pattern = keywordPattern(keyword, true);
  return path
    .split("/")
    .slice(0, -1)
    .some((dir) => pattern.test(dir));
}

function inFileNamed(path: string, keyword: string): boolean {
  return keywordPattern(keyword, false).test(path.slice(path.lastIndexOf("/") + 1));
}

function orderSplits(names: Iterable<string>): string[] {
  const set = new Set(names);
  return [...DEFAULT_SPLITS.filter((s) => set.has(s)), ...[...set].filter((s) => !DEFAULT_SPLITS.includes(s)).sort()];
}

function byKeywords(paths: string[], matches: (path: string, keyword: string) => boolean): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const split of DEFAULT_SPLITS) {
    const files = paths.filter((p) => (SPLIT_KEYWORDS[split] ?? []).some((k) => matches(p, k)));
    if (files.length > 0) found.set(split, files);
  }
  return found;
}

/** The splits of a file list by the `datasets` conventions, first that applies: sharded names, folder names, file names, none (all is train). */
export function splitsOf(paths: readonly string[]): { convention: SplitConvention; files: Map<string, string[]> } {
  const data = paths.filter(isDataFilePath);
  const sharded = new Map<string, string[]>();
  for (const path of data) {
    const split = SHARDED.exec(path)?.[1];
    if (split !== undefined) sharded.set(split, [...(sharded.get(split) ?? []), path]);
  }
  if (sharded.size > 0) return { convention: "sharded", files: sharded };
  const byDirectory = byKeywords(data, inDirectoryNamed);
  if (byDirectory.size > 0) return { convention: "directory", files: byDirectory };
  const byFileName = byKeywords(data, inFileNamed);
  if (byFileName.size > 0) return { convention: "filename", files: byFileName };
  return { convention: "none", files: data.length > 0 ? new Map([["train", data]]) : new Map<string, string[]>() };
}

/**
 * The files of one split of a dataset repo or folder (paths relative to its root), chosen as the Hugging Face
 * `datasets` library does: `data/{split}-NNNNN-of-NNNNN….parquet`, then a folder named for the split
 * (`train/…`, `default/partial-train/…`), then a file name (`train.jsonl`, `my_test-1.csv`); a dataset that
 * names no split is all `train`. Throws a ConfigError naming the splits there are when `split` is not one.
 */
export function selectSplitFiles(paths: readonly string[], split: string, source = "the dataset"): SplitFiles {
  const { convention, files } = splitsOf(paths);
  const splits = orderSplits(files.keys());
  const chosen = files.get(split);
  if (!chosen) {
    const there =
      splits.length > 0
        ? `its splits are ${splits.join(", ")}`
        : "it holds no data file (.parquet, .json, .jsonl, .csv, .tsv)";
    throw new ConfigError(
      `${source} has no "${split}" split: ${there}. Choose one with --split, or name files with --data-files.`,
      { key: "split" },
    );
  }
  return { files: [...chosen].sort(), splits, convention };
}
