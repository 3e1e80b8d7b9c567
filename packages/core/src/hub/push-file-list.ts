import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import { matchesAnyGlob } from "./glob.js";

/** One local file of a push: its path in the repo, where it is on disk, and its size. */
export interface LocalPushFile {
  path: string;
  source: string;
  size: number;
}

/** Left out of every push: the trainer's resume state (optimizer moments, not part of the model). */
export const DEFAULT_PUSH_EXCLUDE: readonly string[] = ["checkpoint-*/"];

/** Hidden files and folders (.git, atomic-write temp files) never go up; .gitattributes does. */
function isHidden(name: string): boolean {
  return name.startsWith(".") && name !== ".gitattributes";
}

async function walk(root: string, prefix: string, exclude: readonly string[], out: LocalPushFile[]): Promise<void> {
  const entries = await readdir(join(root, prefix), { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (isHidden(entry.name)) continue;
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!matchesExclude(`${path}/`, exclude)) await walk(root, path, exclude, out);
    } else if (entry.isFile() && !matchesExclude(path, exclude)) {
      out.push({ path, source: join(root, path), size: (await stat(join(root, path))).size });
    }
  }
}

function matchesExclude(path: string, exclude: readonly string[]): boolean {
  return exclude.length > 0 && matchesAnyGlob(path, exclude);
}

/** The files of `dir` a push sends, in repo-path order, minus hidden ones and those matching `exclude`. */
export async function listPushFiles(
  dir: string,
  exclude: readonly string[] = DEFAULT_PUSH_EXCLUDE,
): Promise<LocalPushFile[]> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory())
    throw new ConfigError(`${dir} is not a folder${info ? "" : " (it does not exist)"}; give the folder to push.`, {
      key: "dir",
    });
  const files: LocalPushFile[] = [];
  await walk(dir, "", exclude, files);
  return files;
}
