import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "@llamats/core";
import { matchDataFiles } from "./match-data-files.js";
import { selectSplitFiles } from "./split-files.js";

export interface LocalDatasetFilesOptions {
  /** A data file, or a folder of them. */
  path: string;
  /** The split to read from a folder (default `train`); see `selectSplitFiles`. */
  split?: string;
  /** Globs relative to the folder that choose its files instead of `split`. */
  dataFiles?: string[];
}

// Folder paths relative to `root` with "/" separators; hidden and special folders are not walked (never data).
async function listFolder(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name.startsWith("__") || entry.name === "node_modules") continue;
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFolder(root, path)));
    else out.push(path);
  }
  return out;
}

/** The data files of a local dataset path: the file itself, or a folder's files of one split (or matching `dataFiles`). */
export async function resolveLocalDatasetFiles(options: LocalDatasetFilesOptions): Promise<string[]> {
  const { path, split, dataFiles } = options;
  const info = await stat(path).catch((error: unknown) => {
    throw new ConfigError(`Dataset path ${path} does not exist`, { key: "path", cause: error });
  });
  if (!info.isDirectory()) {
    if (dataFiles?.length)
      throw new ConfigError(`--data-files chooses files in a folder or Hub dataset repo, but ${path} is a file`, {
        key: "data-files",
      });
    if (split !== undefined && split !== "train") {
      throw new ConfigError(
        `${path} is one file, which is the train split; there is no "${split}" split to take from it`,
        { key: "split" },
      );
    }
    return [path];
  }
  const paths = await listFolder(path);
  const chosen = dataFiles?.length
    ? matchDataFiles(paths, dataFiles, path)
    : selectSplitFiles(paths, split ?? "train", path).files;
  return chosen.map((p) => join(path, p));
}
