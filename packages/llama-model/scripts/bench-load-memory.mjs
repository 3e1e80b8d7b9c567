// Peak process memory while loading a TinyLlama-1.1B-shaped random checkpoint stored as BF16 shards.
// Usage: node scripts/bench-load-memory.mjs [--layers 22] [--dir /tmp/llamats-tinyllama-bf16] [--keep]
// Run `pnpm run build` first. The checkpoint is written once (about 2.2 GB for 22 layers) and reused.
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { initBackend, writeSafetensors } from "@llamats/core";
import { LlamaForCausalLM, expectedParameterShapes, parseLlamaConfig } from "@llamats/llama-model";

const { values } = parseArgs({
  options: {
    layers: { type: "string", default: "22" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const layers = Number(values.layers);
const dir = values.dir ?? `/tmp/llamats-tinyllama-bf16-${layers}`;
const config = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  vocab_size: 32000,
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: layers,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
  torch_dtype: "bfloat16",
};

function randomData(size) {
  const data = new Float32Array(size);
  let s = 12345;
  for (let i = 0; i < size; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 0.04;
  }
  return data;
}

if (!existsSync(join(dir, "model.safetensors.index.json"))) {
  await mkdir(dir, { recursive: true });
  const shapes = [...expectedParameterShapes(parseLlamaConfig(config))];
  const weightMap = {};
  const perShard = 30;
  const shardCount = Math.ceil(shapes.length / perShard);
  for (let s = 0; s < shardCount; s++) {
    const file = `model-${String(s + 1).padStart(5, "0")}-of-${String(shardCount).padStart(5, "0")}.safetensors`;
    const tensors = {};
    for (const [name, shape] of shapes.slice(s * perShard, (s + 1) * perShard)) {
      tensors[name] = {
        shape,
        data: name.endsWith("norm.weight")
          ? new Float32Array(shape[0]).fill(1)
          : randomData(shape.reduce((a, b) => a * b, 1)),
        dtype: "BF16",
      };
      weightMap[name] = file;
    }
    await writeSafetensors(join(dir, file), tensors, { metadata: { format: "pt" } });
  }
  await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  await writeFile(join(dir, "config.json"), JSON.stringify(config, null, 2));
  console.log(`wrote ${dir}`);
}

// A fresh process measures only the load: re-run ourselves with LLAMATS_MEASURE=1.
if (process.env.LLAMATS_MEASURE !== "1") {
  const { spawnSync } = await import("node:child_process");
  const child = spawnSync(process.execPath, [...process.argv.slice(1), "--dir", dir], {
    env: { ...process.env, LLAMATS_MEASURE: "1" },
    stdio: "inherit",
  });
  if (!values.keep) await rm(dir, { recursive: true, force: true });
  process.exit(child.status ?? 1);
}

await initBackend({ backend: "cpu" });
const baseline = process.memoryUsage().rss;
let peak = baseline;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);
const t0 = performance.now();
const model = await LlamaForCausalLM.fromPretrained(dir, {
  onProgress: () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  },
});
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
const params = [...model.namedParameters().values()].reduce((a, v) => a + v.size, 0);
const f32 = params * 4;
console.log(
  JSON.stringify({
    layers,
    parameters: params,
    float32GB: +(f32 / 1e9).toFixed(2),
    loadSeconds: +((performance.now() - t0) / 1000).toFixed(1),
    peakRssGB: +(peak / 1e9).toFixed(2),
    baselineRssGB: +(baseline / 1e9).toFixed(2),
    peakOverFloat32: +((peak - baseline) / f32).toFixed(2),
  }),
);
model.dispose();
