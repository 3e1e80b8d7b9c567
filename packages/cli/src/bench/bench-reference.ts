import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** A file of the CLI's `bench-references/` folder (the Python peers), found from this module in src/ or dist/. */
export function benchReference(name: string): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, "bench-references", name);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return null;
  }
}
