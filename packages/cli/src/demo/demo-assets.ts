import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@llamats/core";

/** Where the embedded demo's files are: the base model and the instruction set. */
export interface DemoAssets {
  baseModelDir: string;
  trainFile: string;
  heldOutFile: string;
}

// From src/demo/*.ts (tests) the assets sit beside this file; from the bundle in dist/ they are in ../src/demo/assets.
const CANDIDATES = ["./assets/", "../src/demo/assets/"];

/** Finds the embedded assets from the source tree or from the built package (its `files` include src/demo/assets). */
export function locateDemoAssets(): DemoAssets {
  for (const candidate of CANDIDATES) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${dir}base-model/config.json`)) {
      return {
        baseModelDir: `${dir}base-model`,
        trainFile: `${dir}instructions/train.json`,
        heldOutFile: `${dir}instructions/held-out.json`,
      };
    }
  }
  throw new ConfigError(
    `The demo's embedded base model was not found (looked for base-model/config.json under ${CANDIDATES.join(" and ")} relative to ${fileURLToPath(import.meta.url)}). Reinstall @llamats/cli, or rebuild it with examples/pretrain-tiny-base.`,
    { key: "demo-assets" },
  );
}
