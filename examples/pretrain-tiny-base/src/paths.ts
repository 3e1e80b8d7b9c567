import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The same code runs from src/ (tests) and bundled from work/dist/: find the example's folder by its data/.
function exampleRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "data", "seed_tasks.jsonl"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("examples/pretrain-tiny-base: cannot find its data/ folder");
    dir = parent;
  }
  return dir;
}

const EXAMPLE_ROOT = exampleRoot();
export const SEED_TASKS_FILE = join(EXAMPLE_ROOT, "data", "seed_tasks.jsonl");
/** The CLI's embedded demo assets, which this example writes. */
export const DEMO_ASSETS_DIR = join(EXAMPLE_ROOT, "../../packages/cli/src/demo/assets");
export const BASE_MODEL_DIR = join(DEMO_ASSETS_DIR, "base-model");
/** Intermediate files (trainer runs, smoke output); git-ignored. */
export const WORK_DIR = join(EXAMPLE_ROOT, "work");
