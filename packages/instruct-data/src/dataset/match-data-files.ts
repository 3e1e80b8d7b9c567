import { ConfigError, globToRegExp } from "@llamats/core";

/** True when a `--data-files` entry is a glob rather than one path. */
export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/**
 * The paths that `patterns` (fnmatch globs as in huggingface_hub: `*` crosses folders) choose, in pattern order,
 * each once. A pattern that matches nothing is a ConfigError: a typo should not silently drop data.
 */
export function matchDataFiles(paths: readonly string[], patterns: readonly string[], source: string): string[] {
  const chosen = new Set<string>();
  for (const pattern of patterns) {
    const regex = globToRegExp(pattern.replace(/^\.\//, ""));
    const matched = paths.filter((p) => regex.test(p)).sort();
    if (matched.length === 0)
      throw new ConfigError(`${source} has no file matching "${pattern}" (--data-files)`, { key: "data-files" });
    for (const p of matched) chosen.add(p);
  }
  return [...chosen];
}
