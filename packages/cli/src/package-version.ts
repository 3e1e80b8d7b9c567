import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The version in the package.json of an installed package, or of the nearest one above this file ("llamats"). */
export function packageVersion(name: string): string | undefined {
  try {
    if (name !== "@llamats/cli") {
      const path = createRequire(import.meta.url).resolve(`${name}/package.json`);
      return (JSON.parse(readFileSync(path, "utf8")) as { version?: string }).version;
    }
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 5; i++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version;
      } catch {
        // No package.json at this level: keep climbing.
      }
    }
  } catch {
    // Not installed.
  }
  return undefined;
}
