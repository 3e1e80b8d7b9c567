#!/usr/bin/env node
// Issue #15: "A TinyLlama-1.1B-shaped model generates on wasm with --weights bf16|int8|nf4; with float32 weights that
// cannot fit, the backend says so within seconds", and "peak memory of `generate --weights int8` ≤ 0.35× the float32
// model's size". Each format runs in its own child process (so peak RSS is its own), in one of two ways:
// - built (default): a seeded TinyLlama-shaped model (vocab 32000, hidden 2048, FFN 5632, 22 layers, 32 heads, 4 KV
//   heads) is made by fromConfig with the weights packed tensor by tensor, then generates greedily;
// - --from-file <dir>: what a user runs, `llamats generate <dir> --weights <format> --backend wasm`, on a float32
//   model.safetensors in <dir> (--write-model makes one first when absent: the same seeded weights, 4.4 GB, and the
//   demo model's 32000-token tokenizer); its peak RSS is read by a hook (`node --import`) when the CLI exits.
// Prints one JSON line per format, or with --json one JSON object holding them all (for scripts/bench-record.mjs).
// Usage: node packages/cli/scripts/tinyllama-weights.mjs [--formats float32,int8,bf16,nf4] [--tokens 8] [--threads 1]
//          [--from-file <dir> [--write-model]] [--json]
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const TINYLLAMA = {
  model_type: "llama",
  vocab_size: 32000,
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: 22,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: false,
  initializer_range: 0.02,
  bos_token_id: 1,
  eos_token_id: 2,
};

const { values } = parseArgs({
  options: {
    formats: { type: "string", default: "float32,int8,bf16,nf4" },
    tokens: { type: "string", default: "8" },
    threads: { type: "string", default: "1" },
    child: { type: "string" },
    "from-file": { type: "string" },
    "write-model": { type: "boolean", default: false },
    "write-child": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const PROMPT = "The capital of France is";

if (values.child) {
  const { initBackend } = await childImports();
  await initBackend({ backend: "wasm", wasmThreads: Number(values.threads) });
  const { LlamaForCausalLM, estimateModelBytes, parseLlamaConfig } = await import("@llamats/llama-model");
  const weights = values.child === "bf16" ? "bfloat16" : values.child;
  const t0 = performance.now();
  let model;
  try {
    model = LlamaForCausalLM.fromConfig(TINYLLAMA, { seed: 1, weights });
  } catch (error) {
    console.log(
      JSON.stringify({ weights, error: `${error.name}: ${error.message}`, seconds: (performance.now() - t0) / 1000 }),
    );
    process.exit(0);
  }
  const loadSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const [out] = await model.generate([1], { maxNewTokens: Number(values.tokens), eosTokenId: [] });
  const genSeconds = (performance.now() - t1) / 1000;
  const float32Bytes = estimateModelBytes(parseLlamaConfig(TINYLLAMA)).total;
  console.log(
    JSON.stringify({
      weights,
      weightBytes: estimateModelBytes(parseLlamaConfig(TINYLLAMA), { weights }).total,
      float32Bytes,
      buildSeconds: Number(loadSeconds.toFixed(1)),
      tokensPerS: Number(((out.length - 1) / genSeconds).toFixed(2)),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      peakRssOverFloat32: Number(((process.resourceUsage().maxRSS * 1024) / float32Bytes).toFixed(3)),
      tokens: out,
    }),
  );
  process.exit(0);
}

if (values["write-child"]) {
  // The float32 checkpoint a user would download, on the cpu backend (no 4 GiB heap), with the seed the built mode uses.
  const { initBackend } = await childImports();
  await initBackend({ backend: "cpu" });
  const { LlamaForCausalLM } = await import("@llamats/llama-model");
  const model = LlamaForCausalLM.fromConfig(TINYLLAMA, { seed: 1 });
  await model.savePretrained(values["write-child"]);
  const demo = fileURLToPath(new URL("../src/demo/assets/base-model/", import.meta.url));
  for (const file of ["tokenizer.json", "tokenizer.model", "tokenizer_config.json"])
    copyFileSync(join(demo, file), join(values["write-child"], file));
  process.exit(0);
}

async function childImports() {
  const core = await import("@llamats/core");
  return { initBackend: core.initBackend };
}

/** Runs `llamats generate` on the checkpoint in `dir` as a user would; a hook prints its peak RSS as it exits. */
function generateFromFile(dir, format) {
  const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
  const hook = `data:text/javascript,${encodeURIComponent(
    "process.on('exit', () => process.stderr.write(`\\nPEAK_RSS ${process.resourceUsage().maxRSS * 1024}\\n`));",
  )}`;
  const args = ["--import", hook, bin, "generate", dir, "--weights", format, "--backend", "wasm"];
  args.push("--max-new-tokens", values.tokens, "--prompt", PROMPT);
  const t0 = performance.now();
  const result = spawnSync(process.execPath, args, {
    encoding: "utf8",
    env: { ...process.env, LLAMATS_WASM_THREADS: values.threads },
    maxBuffer: 1 << 26,
  });
  const seconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  const peak = /PEAK_RSS (\d+)/.exec(result.stderr ?? "");
  const float32Bytes = 4400193536; // estimateModelBytes of TINYLLAMA in float32, as the built mode prints it
  const stderr = (result.stderr ?? "").replace(/\nPEAK_RSS \d+\n/, "").trim();
  return {
    source: "llamats generate on a float32 model.safetensors",
    weights: format === "bf16" ? "bfloat16" : format,
    exitCode: result.status,
    ...(result.status === 0 ? { text: result.stdout } : { error: stderr.split("\n").at(-1) }),
    seconds,
    float32Bytes,
    peakRssBytes: peak ? Number(peak[1]) : null,
    peakRssOverFloat32: peak ? Number((Number(peak[1]) / float32Bytes).toFixed(3)) : null,
  };
}

const fromFile = values["from-file"];
if (fromFile && !existsSync(join(fromFile, "model.safetensors"))) {
  if (!values["write-model"]) {
    console.error(`${fromFile} has no model.safetensors: pass --write-model to write the seeded float32 one (4.4 GB).`);
    process.exit(2);
  }
  const written = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--write-child", fromFile], {
    stdio: ["ignore", "ignore", "inherit"],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
  });
  if (written.status !== 0) process.exit(written.status ?? 1);
}

const results = [];
for (const format of values.formats.split(",")) {
  let row;
  if (fromFile) row = generateFromFile(fromFile, format);
  else {
    const result = spawnSync(
      process.execPath,
      [fileURLToPath(import.meta.url), "--child", format, "--tokens", values.tokens, "--threads", values.threads],
      { encoding: "utf8", cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    row = result.stdout ? JSON.parse(result.stdout) : { weights: format, failed: result.stderr.slice(-500) };
  }
  results.push(row);
  if (!values.json) process.stdout.write(`${JSON.stringify(row)}\n`);
}
if (values.json) {
  const how = fromFile ? "llamats generate <dir> --backend wasm (float32 model.safetensors)" : "fromConfig, seed 1";
  console.log(
    JSON.stringify({
      model: "TinyLlama-1.1B-shaped, seeded random weights",
      how,
      threads: Number(values.threads),
      tokens: Number(values.tokens),
      results,
    }),
  );
}
