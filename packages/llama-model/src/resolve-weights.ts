import { readFile } from "node:fs/promises";
import { FormatError, HubError, SafetensorsError } from "@llamats/core";
import { resolveModelFile, type ResolveOptions } from "./resolve-model-file.js";

export type WeightFormat = "safetensors" | "pytorch";

/** Weight files fromPretrained looks for, preferred first: safetensors over PyTorch pickles (data only, faster), an index over one file (as transformers). */
export const WEIGHT_FILES: readonly { file: string; format: WeightFormat; sharded: boolean }[] = [
  { file: "model.safetensors.index.json", format: "safetensors", sharded: true },
  { file: "model.safetensors", format: "safetensors", sharded: false },
  { file: "pytorch_model.bin.index.json", format: "pytorch", sharded: true },
  { file: "pytorch_model.bin", format: "pytorch", sharded: false },
];

export interface ResolvedWeights {
  format: WeightFormat;
  /** The single weights file, or the shard index (its shards are fetched beside it). */
  path: string;
}

export interface ResolveWeightsOptions extends ResolveOptions {
  /** Called before each shard of an index is fetched. */
  onShard?: (event: { index: number; count: number; file: string }) => void;
}

async function shardNames(index: string): Promise<string[]> {
  try {
    const weightMap = (JSON.parse(await readFile(index, "utf8")) as { weight_map?: unknown }).weight_map;
    if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap))
      throw new Error('it has no "weight_map" object');
    return [...new Set(Object.values(weightMap as Record<string, string>))];
  } catch (cause) {
    throw new FormatError(`${index}: not a shard index (${(cause as Error).message}).`, { file: index, cause });
  }
}

/** Finds the preferred weights of a model folder or Hub repo and fetches every shard an index lists. */
export async function resolveWeights(
  repoIdOrDir: string,
  options: ResolveWeightsOptions = {},
): Promise<ResolvedWeights> {
  const { onShard, ...resolveOptions } = options;
  let offlineMiss: HubError | undefined;
  for (const candidate of WEIGHT_FILES) {
    let path: string | null;
    try {
      path = await resolveModelFile(repoIdOrDir, candidate.file, resolveOptions);
    } catch (error) {
      // Offline, a file the cache knows nothing about may just not exist: a later candidate in the cache still loads.
      if (options.offline && HubError.isInstance(error)) {
        offlineMiss ??= error as HubError;
        continue;
      }
      throw error;
    }
    if (!path) continue;
    if (candidate.sharded) {
      const shards = await shardNames(path);
      for (const [index, shard] of shards.entries()) {
        onShard?.({ index, count: shards.length, file: shard });
        if (!(await resolveModelFile(repoIdOrDir, shard, resolveOptions))) {
          throw new SafetensorsError(`${path} lists shard "${shard}", but ${repoIdOrDir} has no such file.`, {
            file: shard,
          });
        }
      }
    }
    return { format: candidate.format, path };
  }
  if (offlineMiss) throw offlineMiss;
  throw new FormatError(`${repoIdOrDir}: no weights found; looked for ${WEIGHT_FILES.map((w) => w.file).join(", ")}.`, {
    file: WEIGHT_FILES[1].file,
  });
}
