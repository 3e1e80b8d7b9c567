import { existsSync, statSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import {
  ConfigError,
  FormatError,
  isLocalPath,
  openSafetensors,
  openTorchCheckpoint,
  resolveRepoFile,
  writeFileAtomic,
  writeSafetensors,
} from "@llamats/core";
import type { HubOptions } from "@llamats/core";

export const ADAPTER_CONFIG_FILE = "adapter_config.json";
export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";
/** What PEFT before 0.3 (and adapters such as tloen/alpaca-lora-7b) saved: a torch.save zip, read by core's restricted unpickler. */
const PICKLE_WEIGHTS_FILE = "adapter_model.bin";

/** A tensor read from or written to an adapter file. */
export interface AdapterTensor {
  shape: number[];
  data: Float32Array;
}

/** Where to find a Hub adapter: revision, offline, cacheDir, accessToken, hubUrl, fetch, onProgress, signal. */
export type ResolveAdapterOptions = Omit<HubOptions, "repoType">;

export interface ResolvedAdapterFiles {
  configPath: string;
  weightsPath: string;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * Finds `adapter_config.json` and the weights in a local folder or a Hub repo id: `adapter_model.safetensors`, else
 * the older `adapter_model.bin` (as PEFT's loader falls back).
 */
export async function resolveAdapterFiles(
  dirOrRepo: string,
  options: ResolveAdapterOptions = {},
): Promise<ResolvedAdapterFiles> {
  if (isDirectory(dirOrRepo)) {
    const configPath = join(dirOrRepo, ADAPTER_CONFIG_FILE);
    const weightsPath = join(dirOrRepo, ADAPTER_WEIGHTS_FILE);
    if (!existsSync(configPath))
      throw new FormatError(`${dirOrRepo}: no ${ADAPTER_CONFIG_FILE} here; is this a PEFT adapter folder?`, {
        file: configPath,
      });
    if (existsSync(weightsPath)) return { configPath, weightsPath };
    const picklePath = join(dirOrRepo, PICKLE_WEIGHTS_FILE);
    if (existsSync(picklePath)) return { configPath, weightsPath: picklePath };
    throw missingWeights(dirOrRepo);
  }
  if (existsSync(dirOrRepo) && [ADAPTER_WEIGHTS_FILE, PICKLE_WEIGHTS_FILE].includes(basename(dirOrRepo))) {
    return { configPath: join(dirname(dirOrRepo), ADAPTER_CONFIG_FILE), weightsPath: dirOrRepo };
  }
  if (isLocalPath(dirOrRepo))
    throw new FormatError(`${dirOrRepo}: no such adapter folder (nor a Hub repo id like "org/name").`, {
      file: dirOrRepo,
    });
  const resolve = resolveRepoFile;
  const hubOptions = { ...options, repo: dirOrRepo };
  const configPath = await resolve({ ...hubOptions, file: ADAPTER_CONFIG_FILE });
  if (configPath === null)
    throw new FormatError(`${dirOrRepo}: the repository has no ${ADAPTER_CONFIG_FILE}; is it a PEFT adapter?`, {
      file: dirOrRepo,
    });
  const weightsPath =
    (await resolve({ ...hubOptions, file: ADAPTER_WEIGHTS_FILE })) ??
    (await resolve({ ...hubOptions, file: PICKLE_WEIGHTS_FILE }));
  if (weightsPath === null) throw missingWeights(dirOrRepo);
  return { configPath, weightsPath };
}

function missingWeights(where: string): FormatError {
  return new FormatError(
    `${where}: the adapter weights are missing: expected ${ADAPTER_WEIGHTS_FILE} (or the older ${PICKLE_WEIGHTS_FILE}) beside ${ADAPTER_CONFIG_FILE}.`,
    { file: join(where, ADAPTER_WEIGHTS_FILE) },
  );
}

/** Parses `adapter_config.json` into a plain object (field meaning is checked by the caller). */
export async function readAdapterConfigJson(configPath: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(configPath, "utf8");
  } catch (cause) {
    throw new FormatError(`${configPath}: cannot read (${(cause as Error).message}).`, { file: configPath, cause });
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw new Error("not a JSON object");
    return json as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(`${configPath}: not a valid adapter config (${(cause as Error).message}).`, { cause });
  }
}

/** The weights file of an adapter folder: safetensors preferred, else the PyTorch pickle. */
function weightsFileIn(dir: string): string {
  const pickle = join(dir, PICKLE_WEIGHTS_FILE);
  return !existsSync(join(dir, ADAPTER_WEIGHTS_FILE)) && existsSync(pickle) ? pickle : join(dir, ADAPTER_WEIGHTS_FILE);
}

/**
 * Reads every tensor of an adapter as float32, one at a time, keyed by PEFT name (`base_model.model.….lora_A.weight`).
 * Takes `adapter_model.safetensors`, an `adapter_model.bin` (a torch.save zip: data only, no code runs), or the
 * folder holding one.
 */
export async function loadAdapterWeights(path: string): Promise<Map<string, AdapterTensor>> {
  const file = isDirectory(path) ? weightsFileIn(path) : path;
  if (!existsSync(file)) throw missingWeights(isDirectory(path) ? path : dirname(path));
  const reader = file.endsWith(".bin") ? await openTorchCheckpoint(file) : await openSafetensors(file);
  try {
    const tensors = new Map<string, AdapterTensor>();
    for (const name of reader.names()) {
      tensors.set(name, { shape: [...reader.info(name).shape], data: await reader.readFloat32(name) });
    }
    return tensors;
  } finally {
    await reader.close();
  }
}

export interface WriteAdapterOptions {
  dir: string;
  config: Record<string, unknown>;
  tensors: Map<string, AdapterTensor>;
}

/** Writes `adapter_config.json` and `adapter_model.safetensors` (atomically) the way PEFT's save_pretrained does. */
export async function writeAdapterFiles(options: WriteAdapterOptions): Promise<void> {
  await mkdir(options.dir, { recursive: true });
  const tensors: Record<string, { shape: number[]; data: Float32Array; dtype: "F32" }> = {};
  for (const [name, tensor] of options.tensors)
    tensors[name] = { shape: tensor.shape, data: tensor.data, dtype: "F32" };
  // PEFT (through safetensors.torch) marks its files {"format": "pt"}; loaders check it.
  await writeSafetensors(join(options.dir, ADAPTER_WEIGHTS_FILE), tensors, { metadata: { format: "pt" } });
  await writeFileAtomic(join(options.dir, ADAPTER_CONFIG_FILE), `${JSON.stringify(options.config, null, 2)}\n`);
}
