import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const PACKAGES = fileURLToPath(new URL("../..", import.meta.url));
// WebGPU in Node cannot read synchronously (tfjs-webgpu needs OffscreenCanvas for it), and a sync read stalls the GPU.
const SYNC_READ = /\.(dataSync|arraySync|bufferSync)\s*\(/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" || name === "dist" ? [] : sourceFiles(path);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : [];
  });
}

describe("library code", () => {
  it("never reads a tensor synchronously (dataSync, arraySync, bufferSync)", () => {
    const packages = readdirSync(PACKAGES).filter((p) =>
      statSync(join(PACKAGES, p, "src"), { throwIfNoEntry: false })?.isDirectory(),
    );
    expect(packages).toContain("llama-model");
    const offenders: string[] = [];
    for (const pkg of packages) {
      for (const file of sourceFiles(join(PACKAGES, pkg, "src"))) {
        readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (SYNC_READ.test(line)) offenders.push(`${relative(PACKAGES, file)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(offenders).toEqual([]);
  });
});
