import { execFile } from "node:child_process";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { LlamaConfig, LlamaForCausalLM } from "@llamats/llama-model";
import { pathExists } from "../path-exists.js";

/** What running llama2.c beside us gave: its tokens/s, or why it did not run. */
export type Llama2cResult = { tokensPerS: number; binary: string; threads: number } | { skipped: string };

/** The llama2.c `run` binary and its tokenizer.bin, from a checkout directory or the binary's path. */
async function locate(given: string, cwd: string): Promise<{ binary: string; tokenizer: string } | string> {
  const path = resolve(cwd, given);
  const info = await stat(path).catch(() => null);
  if (!info) return `${path} does not exist (build llama2.c there: make runomp)`;
  const binary = info.isDirectory() ? join(path, "run") : path;
  const tokenizer = join(dirname(binary), "tokenizer.bin");
  if (!(await pathExists(binary))) return `${binary} was not found (build it: make runomp)`;
  if (!(await pathExists(tokenizer))) return `${tokenizer} was not found (it ships with llama2.c)`;
  return { binary, tokenizer };
}

/**
 * Writes the model in llama2.c's legacy checkpoint layout (run.c's read_checkpoint): a header of seven int32
 * (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size — positive for a shared classifier — and
 * seq_len), then float32 tensors in HF [out, in] layout. RoPE's pair order differs (llama2.c rotates
 * interleaved pairs), which changes the tokens but not the work: this is for timing only.
 */
async function writeCheckpoint(
  model: LlamaForCausalLM,
  config: LlamaConfig,
  path: string,
  seqLen: number,
): Promise<void> {
  const file = await open(path, "w");
  try {
    const header = Int32Array.from([
      config.hiddenSize,
      config.intermediateSize,
      config.numHiddenLayers,
      config.numAttentionHeads,
      config.numKeyValueHeads,
      config.vocabSize,
      seqLen,
    ]);
    await file.write(new Uint8Array(header.buffer));
    const params = model.namedParameters();
    const tensor = async (name: string) => {
      const values = (await params.get(name)!.data()) as Float32Array;
      await file.write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    };
    const perLayer = async (suffix: string) => {
      for (let i = 0; i < config.numHiddenLayers; i++) await tensor(`model.layers.${i}.${suffix}`);
    };
    await tensor("model.embed_tokens.weight");
    await perLayer("input_layernorm.weight");
    for (const p of ["q_proj", "k_proj", "v_proj", "o_proj"]) await perLayer(`self_attn.${p}.weight`);
    await perLayer("post_attention_layernorm.weight");
    for (const p of ["gate_proj", "down_proj", "up_proj"]) await perLayer(`mlp.${p}.weight`);
    await tensor("model.norm.weight");
    // freq_cis_real and freq_cis_imag [seq_len, head_dim / 2]: unused by run.c, but part of the layout.
    await file.write(new Uint8Array(seqLen * config.headDim * 4));
  } finally {
    await file.close();
  }
}

/** Runs llama2.c greedy on the same weights and shape, 2 OpenMP threads by default; parses its "achieved tok/s". */
export async function runLlama2c(options: {
  given: string;
  cwd: string;
  model: LlamaForCausalLM;
  newTokens: number;
  threads: number;
  signal: AbortSignal;
}): Promise<Llama2cResult> {
  const found = await locate(options.given, options.cwd);
  if (typeof found === "string") return { skipped: found };
  const config = options.model.config;
  if (config.tieWordEmbeddings !== true) return { skipped: "llama2.c needs tied embeddings" };
  const dir = await mkdtemp(join(tmpdir(), "llamats-llama2c-"));
  try {
    const checkpoint = join(dir, "model.bin");
    // The prompt "Once" is BOS + 1 token; steps count every position.
    const steps = options.newTokens + 2;
    await writeCheckpoint(options.model, config, checkpoint, Math.max(steps, config.maxPositionEmbeddings));
    const args = [checkpoint, "-z", found.tokenizer, "-t", "0", "-n", String(steps), "-i", "Once"];
    const env = { ...process.env, OMP_NUM_THREADS: String(options.threads) };
    const output = await new Promise<string>((done, fail) => {
      execFile(found.binary, args, { env, signal: options.signal, maxBuffer: 1 << 22 }, (error, stdout, stderr) =>
        error ? fail(new Error(`${stderr}`.trim() || error.message)) : done(`${stdout}${stderr}`),
      );
    });
    const match = /achieved tok\/s:\s*([\d.]+)/.exec(output);
    if (!match) return { skipped: `llama2.c printed no "achieved tok/s" (${output.slice(-200)})` };
    return { tokensPerS: Number(match[1]), binary: found.binary, threads: options.threads };
  } catch (error) {
    return { skipped: `llama2.c failed: ${(error as Error).message.split("\n")[0]}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
