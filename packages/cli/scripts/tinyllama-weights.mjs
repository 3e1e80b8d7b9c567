#!/usr/bin/env node
// Issue #15: "A TinyLlama-1.1B-shaped model generates on wasm with --weights bf16|int8|nf4; with float32 weights that
// cannot fit, the backend says so within seconds." Each format runs in its own child process (so peak RSS is its own):
// a seeded TinyLlama-shaped model (vocab 32000, hidden 2048, FFN 5632, 22 layers, 32 heads, 4 KV heads) is built
// with the weights packed tensor by tensor, then generates greedily. Prints one JSON line per format.
// Usage: node packages/cli/scripts/tinyllama-weights.mjs [--formats float32,int8,bf16,nf4] [--tokens 8] [--threads 1]
import { spawnSync } from "node:child_process";
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
  },
});

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

async function childImports() {
  const core = await import("@llamats/core");
  return { initBackend: core.initBackend };
}

for (const format of values.formats.split(",")) {
  const result = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), "--child", format, "--tokens", values.tokens, "--threads", values.threads],
    { encoding: "utf8", cwd: fileURLToPath(new URL("..", import.meta.url)) },
  );
  process.stdout.write(
    result.stdout || `{"weights":"${format}","failed":${JSON.stringify(result.stderr.slice(-500))}}\n`,
  );
}
