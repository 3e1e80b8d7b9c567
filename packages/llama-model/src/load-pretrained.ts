import { readFile } from "node:fs/promises";
import * as tf from "@tensorflow/tfjs-core";
import {
  ConfigError,
  FormatError,
  SafetensorsError,
  ShapeMismatchError,
  openSafetensors,
  openTorchCheckpoint,
  packedWeightTensors,
  packingRowChunks,
  PackingScratch,
  type PackedWeight,
  type SafetensorsReader,
} from "@llamats/core";
import { parseLlamaConfig, type LlamaConfig } from "./config.js";
import { isPackedParameter, parameterWriter, type FrozenWeightsOptions } from "./frozen-weights.js";
import { checkModelFits } from "./memory-estimate.js";
import { expectedParameterShapes } from "./parameter-shapes.js";
import { resolveModelFile, type ResolveOptions } from "./resolve-model-file.js";
import { resolveWeights } from "./resolve-weights.js";
import { chunkName, resolveMaxTensorBytes, rowChunks, SPLITTABLE_PARAMETERS } from "./weight-chunks.js";

export interface LoadProgress {
  /** 'download' while files are fetched (Hub), 'weights' while tensors are read. */
  stage: "download" | "weights";
  loaded: number;
  total: number;
  /** The file or tensor being handled. */
  name: string;
}

export interface FromPretrainedOptions {
  revision?: string;
  offline?: boolean;
  /** Hub settings (each defaults to its HF_* environment variable). */
  cacheDir?: string;
  accessToken?: string;
  hubUrl?: string;
  fetch?: typeof fetch;
  onProgress?: (event: LoadProgress) => void;
  signal?: AbortSignal;
  /** Split embed_tokens / lm_head bigger than this into row chunks as they load (default: see LlamaModelOptions). */
  maxTensorBytes?: number;
}

/** The Hub options of fromPretrained, with download progress reported as LoadProgress. */
function hubOptions(options: FromPretrainedOptions): ResolveOptions {
  const { onProgress, revision, offline, signal, cacheDir, accessToken, hubUrl, fetch } = options;
  return {
    ...(revision !== undefined ? { revision } : {}),
    ...(offline !== undefined ? { offline } : {}),
    ...(signal ? { signal } : {}),
    ...(cacheDir !== undefined ? { cacheDir } : {}),
    ...(accessToken !== undefined ? { accessToken } : {}),
    ...(hubUrl !== undefined ? { hubUrl } : {}),
    ...(fetch ? { fetch } : {}),
    ...(onProgress
      ? { onProgress: (e) => onProgress({ stage: "download", loaded: e.loaded, total: e.total ?? 0, name: e.file }) }
      : {}),
  };
}

async function readConfig(
  repoIdOrDir: string,
  options: FromPretrainedOptions,
): Promise<{ config: LlamaConfig; path: string }> {
  const path = await resolveModelFile(repoIdOrDir, "config.json", hubOptions(options));
  if (!path)
    throw new ConfigError(`${repoIdOrDir}: there is no config.json, so this is not a transformers model repo.`, {
      key: "config.json",
    });
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new FormatError(`${path}: not valid JSON (${(cause as Error).message}).`, { file: path, cause });
  }
  try {
    return { config: parseLlamaConfig(raw), path };
  } catch (error) {
    if (error instanceof Error) error.message = error.message.replace(/^config\.json/, path);
    throw error;
  }
}

/** Opens the preferred weights (see WEIGHT_FILES: safetensors, else PyTorch zip checkpoints), fetching every shard. */
async function openWeights(repoIdOrDir: string, options: FromPretrainedOptions): Promise<SafetensorsReader> {
  const weights = await resolveWeights(repoIdOrDir, {
    ...hubOptions(options),
    onShard: ({ index, count, file }) =>
      options.onProgress?.({ stage: "download", loaded: index, total: count, name: file }),
  });
  // A PyTorch checkpoint's pickle is read with an allowlist of tensor globals only: the file stays data.
  return weights.format === "safetensors" ? openSafetensors(weights.path) : openTorchCheckpoint(weights.path);
}

/** Checks every expected tensor is present with its shape before any is read: one clear error names the first mismatch. */
function checkTensors(reader: SafetensorsReader, expected: Map<string, number[]>, configPath: string): void {
  for (const [name, shape] of expected) {
    if (!reader.has(name)) {
      throw new SafetensorsError(
        `${reader.path}: tensor "${name}" is missing (${configPath} needs it, with shape [${shape.join(", ")}]).`,
        {
          file: reader.path,
          tensor: name,
        },
      );
    }
    const info = reader.info(name);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeMismatchError(
        `${info.file}: tensor "${name}" has shape [${info.shape.join(", ")}], but ${configPath} implies [${shape.join(", ")}].`,
        { tensor: name, expected: shape, found: info.shape },
      );
    }
    // F64 is rounded to float32 as transformers' default dtype would; integer weights are a mistake, not a format.
    if (!["F32", "F16", "BF16", "F64"].includes(info.dtype)) {
      throw new SafetensorsError(
        `${info.file}: tensor "${name}" is ${info.dtype}; llamats loads F32, F16, BF16 and F64 weights.`,
        { file: info.file, tensor: name },
      );
    }
  }
}

/** A loaded checkpoint: float32 variables, and the projections packed under `weights` (empty for float32). */
export interface LoadedPretrained {
  config: LlamaConfig;
  parameters: Map<string, tf.Variable>;
  packed: Map<string, PackedWeight>;
}

/**
 * Reads config.json and the weights one tensor at a time to bound peak memory: float32 variables, or with `weights`
 * bf16/int8/nf4 each projection packed as it is read, a chunk of rows at a time. Fails before reading any weight when the backend cannot hold them.
 */
export async function loadPretrained(
  repoIdOrDir: string,
  options: FromPretrainedOptions & FrozenWeightsOptions = {},
): Promise<LoadedPretrained> {
  const { config, path: configPath } = await readConfig(repoIdOrDir, options);
  checkModelFits(config, options);
  const reader = await openWeights(repoIdOrDir, options);
  const parameters = new Map<string, tf.Variable>();
  const packed = new Map<string, PackedWeight>();
  const maxBytes = resolveMaxTensorBytes(options.maxTensorBytes);
  const scratch = new PackingScratch();
  try {
    const expected = expectedParameterShapes(config);
    checkTensors(reader, expected, configPath);
    let loaded = 0;
    for (const [name, shape] of expected) {
      options.signal?.throwIfAborted();
      if (isPackedParameter(name, shape, options)) {
        // A chunk of rows at a time into one reused buffer: the float32 tensor is never held whole.
        const writer = parameterWriter(name, shape, options);
        for (const [start, end] of packingRowChunks(shape[0], shape[1])) {
          const into = scratch.rowsOf((end - start) * shape[1]);
          writer.writeRows(await reader.readFloat32Rows(name, { start, end, into }));
        }
        packed.set(name, packedWeightTensors(writer.finish()));
        options.onProgress?.({ stage: "weights", loaded: ++loaded, total: expected.size, name });
        continue;
      }
      const values = await reader.readFloat32(name);
      // Too big to bind on WebGPU: never built whole, only as row chunks (see weight-chunks.ts).
      const ranges = (SPLITTABLE_PARAMETERS as readonly string[]).includes(name)
        ? rowChunks(shape[0], shape[1], maxBytes)
        : [[0, shape[0]] as [number, number]];
      for (const range of ranges) {
        const rows = range[1] - range[0];
        const part = ranges.length === 1 ? values : values.subarray(range[0] * shape[1], range[1] * shape[1]);
        const tensor = tf.tensor(part, ranges.length === 1 ? shape : [rows, shape[1]], "float32");
        parameters.set(ranges.length === 1 ? name : chunkName(name, range), tf.variable(tensor, true));
        tensor.dispose();
      }
      options.onProgress?.({ stage: "weights", loaded: ++loaded, total: expected.size, name });
    }
  } catch (error) {
    for (const v of parameters.values()) v.dispose();
    for (const p of packed.values()) tf.dispose([p.words, p.scales]);
    throw error;
  } finally {
    await reader.close();
  }
  return { config, parameters, packed };
}
