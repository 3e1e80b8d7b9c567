import { copyFile, mkdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { repoFolderName } from "./repo-id.js";
import type { RepoType } from "./types.js";

export const COMMIT_SHA = /^[0-9a-f]{40}$/;

/**
 * One repo's folder in the huggingface_hub cache:
 * `blobs/<etag>` (contents), `snapshots/<sha>/<file>` (relative symlinks to blobs), `refs/<revision>` (a commit sha),
 * `.no_exist/<sha>/<file>` (empty markers for files the Hub said do not exist).
 */
export class RepoCache {
  readonly root: string;

  constructor(cacheDir: string, repo: string, type: RepoType) {
    this.root = join(cacheDir, repoFolderName(repo, type));
  }

  blobPath(etag: string): string {
    return join(this.root, "blobs", etag);
  }

  snapshotDir(commit: string): string {
    return join(this.root, "snapshots", commit);
  }

  snapshotFile(commit: string, file: string): string {
    return join(this.snapshotDir(commit), ...file.split("/"));
  }

  private refPath(revision: string): string {
    return join(this.root, "refs", ...revision.split("/"));
  }

  private noExistPath(commit: string, file: string): string {
    return join(this.root, ".no_exist", commit, ...file.split("/"));
  }

  /** The commit a revision points at in the cache: a sha itself, or what `refs/<revision>` holds. */
  async commitFor(revision: string): Promise<string | null> {
    if (COMMIT_SHA.test(revision)) return (await exists(this.snapshotDir(revision))) ? revision : null;
    try {
      const sha = (await readFile(this.refPath(revision), "utf8")).trim();
      return COMMIT_SHA.test(sha) ? sha : null;
    } catch {
      return null;
    }
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const path = this.refPath(revision);
    const current = await readFile(path, "utf8").catch(() => "");
    if (current.trim() !== commit) await writeFileAtomic(path, commit);
  }

  /** The snapshot path of a file if it is cached (its blob present), else null. */
  async cachedFile(commit: string, file: string): Promise<string | null> {
    const path = this.snapshotFile(commit, file);
    return (await exists(path)) ? path : null;
  }

  async isKnownMissing(commit: string, file: string): Promise<boolean> {
    return exists(this.noExistPath(commit, file));
  }

  async markMissing(commit: string, file: string): Promise<void> {
    const path = this.noExistPath(commit, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, "");
  }

  /** Points `snapshots/<commit>/<file>` at `blobs/<etag>` with a relative symlink (a copy where links are not allowed). */
  async link(commit: string, file: string, etag: string): Promise<string> {
    const pointer = this.snapshotFile(commit, file);
    const blob = this.blobPath(etag);
    await mkdir(dirname(pointer), { recursive: true });
    await rm(pointer, { force: true });
    try {
      await symlink(relative(dirname(pointer), blob), pointer);
    } catch (error) {
      // Another download of the same file linked it first: fine. Where symlinks are not allowed (Windows): copy.
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && (await exists(pointer))) return pointer;
      await copyFile(blob, pointer);
    }
    return pointer;
  }
}

/** True if the path exists (following symlinks, so a link to a missing blob counts as absent). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
