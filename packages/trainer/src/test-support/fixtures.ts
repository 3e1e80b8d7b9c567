// Test-only: paths and readers for the fixtures copied into test-fixtures/.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { openSafetensors } from "@llamats/core";

const FIXTURES = fileURLToPath(new URL("../../test-fixtures/", import.meta.url));
export const LLAMA1_TINY = `${FIXTURES}llama1-tiny`;
export const TRAJECTORY = `${FIXTURES}lora-trajectory`;

export interface TrajectorySpec {
  cutoff_len: number;
  lora_r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  learning_rate: number;
  micro_batch_size: number;
  gradient_accumulation_steps: number;
  num_epochs: number;
  warmup_steps: number;
  lr_scheduler: string;
  max_grad_norm: number;
  optimizer: string;
  shuffle: boolean;
  pad_id: number;
}

export interface Trajectory {
  spec: TrajectorySpec;
  log: { step: number; epoch: number; loss: number; tokens: number; lr: number; grad_norm: number }[];
  examples: { input_ids: number[]; labels: number[] }[];
}

export async function readTrajectory(dir = TRAJECTORY): Promise<Trajectory> {
  return JSON.parse(await readFile(`${dir}/trajectory.json`, "utf8")) as Trajectory;
}

/** Parses the spec's optimizer string, e.g. "adamw(0.9,0.999,1e-8,wd=0)". */
export function parseAdamW(text: string): { beta1: number; beta2: number; epsilon: number; weightDecay: number } {
  const match = /^adamw\(([^,]+),([^,]+),([^,]+),wd=([^)]+)\)$/.exec(text.replace(/\s+/g, ""));
  if (!match) throw new Error(`unrecognized optimizer spec ${text}`);
  return { beta1: Number(match[1]), beta2: Number(match[2]), epsilon: Number(match[3]), weightDecay: Number(match[4]) };
}

export async function readTensors(file: string): Promise<Map<string, Float32Array>> {
  const reader = await openSafetensors(file);
  const out = new Map<string, Float32Array>();
  for (const name of reader.names()) out.set(name, await reader.readFloat32(name));
  await reader.close();
  return out;
}

export const LLAMA1_TINY_LORA = `${FIXTURES}llama1-tiny-lora`;
