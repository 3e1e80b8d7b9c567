/**
 * An fnmatch-style pattern as huggingface_hub's allow_patterns use it: `*` matches anything (slashes too),
 * `?` one character, `[abc]` / `[!abc]` a set; a pattern ending in "/" matches everything under that folder.
 */
export function globToRegExp(pattern: string): RegExp {
  const source = pattern.endsWith("/") ? `${pattern}*` : pattern;
  let out = "";
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "*") out += ".*";
    else if (c === "?") out += ".";
    else if (c === "[") {
      const close = source.indexOf("]", i + 2);
      if (close === -1) {
        out += "\\[";
        continue;
      }
      let set = source.slice(i + 1, close);
      if (set.startsWith("!")) set = `^${set.slice(1)}`;
      out += `[${set.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "s");
}

/** True when `path` matches one of the patterns (or there are none). */
export function matchesAnyGlob(path: string, patterns: readonly string[] | undefined): boolean {
  if (!patterns || patterns.length === 0) return true;
  return patterns.some((p) => globToRegExp(p).test(path));
}
