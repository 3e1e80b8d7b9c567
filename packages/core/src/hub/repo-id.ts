import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { RepoType } from "./types.js";

// The Hub's rule for repo ids: "name" or "org/name", letters, digits, "-", "_", "."; no "--" or "..".
const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;

/** True when `s` is a valid Hub repo id such as "org/name". */
export function isRepoId(s: string): boolean {
  return REPO_ID.test(s) && !s.includes("--") && !s.includes("..") && s.length <= 96;
}

/**
 * True when `s` names a local file or folder rather than a Hub repo id: it exists on disk, is written as a path
 * ("./x", "/x", "~/x", "C:\\x"), or cannot be a repo id.
 */
export function isLocalPath(s: string): boolean {
  if (/^(\.{1,2}|~)([\\/]|$)/.test(s) || s.startsWith("/") || s.includes("\\") || /^[A-Za-z]:/.test(s)) return true;
  if (existsSync(s)) return true;
  return !isRepoId(s);
}

/** "~/x" → the home folder's x. */
export function expandLocalPath(s: string): string {
  return s === "~" || s.startsWith("~/") ? join(homedir(), s.slice(1)) : s;
}

/** The cache folder name huggingface_hub uses: `models--org--name`, `datasets--org--name`. */
export function repoFolderName(repo: string, type: RepoType): string {
  return [`${type}s`, ...repo.split("/")].join("--");
}

/** The repo's page, where a gated model's terms are accepted. */
export function repoPageUrl(hubUrl: string, repo: string, type: RepoType): string {
  return `${hubUrl}/${type === "dataset" ? "datasets/" : ""}${repo}`;
}
