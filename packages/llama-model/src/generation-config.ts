import { readFile } from "node:fs/promises";
import { FormatError } from "@llamats/core";
import { resolveModelFile, type ResolveOptions } from "./resolve-model-file.js";

/** The sampling defaults a repo ships in generation_config.json (transformers' GenerationConfig), camelCased. */
export interface GenerationDefaults {
  eosTokenId?: number | number[];
  bosTokenId?: number;
  padTokenId?: number;
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  maxNewTokens?: number;
}

const FIELDS: [string, keyof GenerationDefaults][] = [
  ["eos_token_id", "eosTokenId"],
  ["bos_token_id", "bosTokenId"],
  ["pad_token_id", "padTokenId"],
  ["do_sample", "doSample"],
  ["temperature", "temperature"],
  ["top_k", "topK"],
  ["top_p", "topP"],
  ["repetition_penalty", "repetitionPenalty"],
  ["max_new_tokens", "maxNewTokens"],
];

/** Parses generation_config.json contents; unknown keys are ignored and nulls dropped. */
export function parseGenerationConfig(raw: unknown): GenerationDefaults {
  const out: Record<string, unknown> = {};
  if (typeof raw !== "object" || raw === null) return {};
  for (const [key, field] of FIELDS) {
    const value = (raw as Record<string, unknown>)[key];
    if (value !== null && value !== undefined) out[field] = value;
  }
  return out;
}

/** generation_config.json of a model directory or Hub repo; {} when the repo has none. */
export async function loadGenerationConfig(
  repoIdOrDir: string,
  options: ResolveOptions = {},
): Promise<GenerationDefaults> {
  const path = await resolveModelFile(repoIdOrDir, "generation_config.json", options);
  if (!path) return {};
  try {
    return parseGenerationConfig(JSON.parse(await readFile(path, "utf8")));
  } catch (cause) {
    throw new FormatError(`${path}: not valid JSON (${(cause as Error).message}).`, { file: path, cause });
  }
}
