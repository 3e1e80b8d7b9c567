#!/usr/bin/env node
// Renders the root README's generated parts (the "Where we stand" table and the demo's figures) from the committed
// benchmark records in bench/results/*.json (written by scripts/bench-record.mjs), so every figure there comes from
// a run. `--check` (part of npm test) fails when the README and the records disagree; without it, the README is
// rewritten. Usage: node scripts/readme-table.mjs [--check]
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";

const root = fileURLToPath(new URL("..", import.meta.url));
const readmePath = join(root, "README.md");

/** A committed benchmark record; a missing file or field is an error naming it. */
function record(name) {
  const file = join(root, "bench", "results", `${name}.json`);
  if (!existsSync(file))
    throw new Error(`bench/results/${name}.json is missing: run node scripts/bench-record.mjs ${name} -- …`);
  const json = JSON.parse(readFileSync(file, "utf8"));
  const need = (value, path) => {
    if (value === undefined || value === null)
      throw new Error(`bench/results/${name}.json has no ${path} (the run it records did not measure it)`);
    return value;
  };
  return { json, need, file: `bench/results/${name}.json` };
}

const thousands = (n) => Math.round(n).toLocaleString("en-US");
const ratio = (x) => `${x.toFixed(2)}×`;
const day = (iso) => iso.slice(0, 10);
/** One figure per backend, "a / b / c", each in two significant digits. */
const perBackend = (backends, pick) =>
  backends.map((b) => (pick(b) === 0 ? "0" : pick(b).toExponential(1))).join(" / ");

function tokenizerRows() {
  const { json, need, file } = record("tokenizer");
  const r = need(json.result, "result");
  const c = need(r.comparisons, "result.comparisons");
  const sp = need(c.tokenizerModelVsSentencePieceCpp, "a SentencePiece C++ comparison");
  const spHf = need(c.spHfJsonVsHuggingfaceTokenizers, "a @huggingface/tokenizers comparison (tokenizer-sp-hf)");
  const byteLevel = need(c.byteLevelJsonVsHuggingfaceTokenizers, "a @huggingface/tokenizers comparison (byte-level)");
  const peer = need(
    r.results.find((x) => x.name.startsWith("sentencepiece")),
    "result.results[sentencepiece]",
  );
  const lines = `${thousands(r.lines)} distinct lines of the Brown Corpus`;
  return [
    [
      `tokenizer ids on ${lines}: tokenizer.model vs SentencePiece C++, tokenizer.json vs \`@huggingface/tokenizers\` (${file})`,
      `${sp.mismatchedLines.lines} / ${spHf.mismatchedLines.lines} / ${byteLevel.mismatchedLines.lines} lines differ (sp, sp-hf, byte-level)`,
    ],
    [
      `\`llamats bench tokenizer\`: ${lines}, one at a time, cold tokenizers, best of ${r.rounds} rounds (${file})`,
      `${ratio(sp.ratio)} SentencePiece C++ (${thousands(peer.tokensPerS)} tokens/s, one thread); ` +
        `${ratio(spHf.ratio)} / ${ratio(byteLevel.ratio)} \`@huggingface/tokenizers\` (sp-hf / byte-level); same run`,
    ],
  ];
}

function exactnessRows() {
  const { json, need, file } = record("exactness");
  const backends = Object.values(need(json.result?.backends, "result.backends"));
  if (backends.length === 0) throw new Error(`${file} holds no backend`);
  const names = backends.map((b) => b.backend).join(" / ");
  const each = (pick) => perBackend(backends, pick);
  const greedy = backends.every((b) => b.base.greedyIdentical === true) ? "identical" : "DIFFERENT";
  return [
    [
      `LLaMA logits and loss vs transformers (\`llama1-tiny\`, ${names}; ${file})`,
      `max logit difference ${each((b) => b.base.maxAbsLogitDiff)}; loss ${each((b) => b.base.absLossDiff)}; greedy ids ${greedy}`,
    ],
    [
      `LoRA vs PEFT: logits, loss and the adapter's gradients (\`llama1-tiny-lora\`, ${names}; ${file})`,
      `max logit difference ${each((b) => b.lora.maxAbsLogitDiff)}; loss ${each((b) => b.lora.absLossDiff)}; ` +
        `gradients of all ${backends[0].lora.tensors} lora_A/lora_B within ` +
        `${each((b) => need(b.lora.maxRelativeGradDiff, "lora.maxRelativeGradDiff"))} of their largest value`,
    ],
  ];
}

function trajectoryRow() {
  const { json, need, file } = record("trajectory");
  const backends = Object.values(need(json.result?.backends, "result.backends"));
  if (backends.length === 0) throw new Error(`${file} holds no backend`);
  const each = (pick) => perBackend(backends, pick);
  return [
    `a whole PEFT LoRA fine-tune, step by step (\`lora-trajectory\`, ${backends[0].steps} steps, ` +
      `${backends.map((b) => b.backend).join(" / ")}; ${file})`,
    `loss within ${each((b) => b.maxStepLossDiff)} at every step; gradient norm within ${each((b) => b.maxGradNormDiff)}; ` +
      `final adapter within ${each((b) => b.maxFinalAdapterDiff)}`,
  ];
}

/** How llama.cpp's threads were chosen: its best count up to ours (records with byThreads), else the same as ours. */
function llamaCppThreads(runs) {
  if (!runs.every((p) => p.byThreads)) return "same threads";
  const counts = runs.map((p) => `${p.type} ${p.threads}`).join(", ");
  return `llama.cpp at its best thread count up to ours: ${counts}`;
}

function generateRow(name) {
  const { json, need, file } = record(name);
  const r = need(json.result, "result");
  const threads = r.wasmThreads === undefined ? "" : `, ${r.wasmThreads} thread${r.wasmThreads === 1 ? "" : "s"}`;
  const sameRun = r.llama2cSameRun && "tokensPerS" in r.llama2cSameRun ? r.llama2cSameRun : null;
  const llamaCpp = Array.isArray(r.llamaCppSameRun) ? r.llamaCppSameRun.filter((p) => "tokensPerS" in p) : [];
  const cpp = (type) => llamaCpp.find((p) => p.type === type);
  const f32 = r.weights === "float32" ? r.tokensPerS : r.float32SameRunTokensPerS;
  const parts = [];
  if (cpp("f32"))
    parts.push(
      `float32 ${thousands(need(f32, "result.float32SameRunTokensPerS"))} tokens/s: ` +
        `${ratio(need(r.ratioToLlamaCppF32, "result.ratioToLlamaCppF32"))} llama.cpp f32 (${thousands(cpp("f32").tokensPerS)} tokens/s)`,
    );
  if (r.weights === "int8" && cpp("q8_0"))
    parts.push(
      `int8 ${thousands(r.tokensPerS)} tokens/s: ` +
        `${ratio(need(r.ratioToLlamaCppQ8_0, "result.ratioToLlamaCppQ8_0"))} llama.cpp q8_0 (${thousands(cpp("q8_0").tokensPerS)} tokens/s)`,
    );
  if (sameRun)
    parts.push(
      `${ratio(need(r.ratioToLlama2cSameRun, "result.ratioToLlama2cSameRun"))} llama2.c (${sameRun.binary}, ${thousands(sameRun.tokensPerS)} tokens/s)`,
    );
  const peer =
    parts.length > 0
      ? `${parts.join("; ")}, measured in the same run${llamaCpp.length ? ` (llama.cpp through node-llama-cpp's CPU build, same weights, ${llamaCppThreads(llamaCpp)})` : ""}`
      : `${thousands(need(r.tokensPerS, "result.tokensPerS"))} tokens/s, ${r.cpuMsPerToken} ms CPU a token; no native peer in the run`;
  return [
    `\`llamats bench generate\` (stories15M shape, random weights, ${r.backend}${threads}, ${r.decoding}, ${r.newTokens} tokens; ${file})`,
    peer,
  ];
}

function trainRow() {
  const { json, need, file } = record("train");
  const r = need(json.result, "result");
  const torch = need(r.torch?.train_tokens_per_s, "result.torch.train_tokens_per_s (PyTorch did not run)");
  const s = r.shape;
  return [
    `\`llamats bench train\` (LoRA r=8 on q,v, stories15M shape, batch ${s.batch} × ${s.seq}, ${r.backend}; ${file})`,
    `${ratio(need(r.ratio, "result.ratio"))} PyTorch CPU in the same run (${thousands(r.ours.tokens_per_s)} vs ${thousands(torch)} tokens/s; ${r.torch.anchor}, ${r.torch.threads} threads)`,
  ];
}

function loadMemoryRow() {
  const { json, need, file } = record("load-memory");
  const r = need(json.result, "result");
  return [
    `peak memory loading TinyLlama-shaped BF16 shards, ${r.layers} layers (cpu; ${file})`,
    `${ratio(need(r.peakOverFloat32, "result.peakOverFloat32"))} the float32 model size (${r.float32GB} GB), loaded in ${r.loadSeconds} s`,
  ];
}

function packedGenerateMemoryRow() {
  const { json, need, file } = record("tinyllama-weights-file");
  const r = need(json.result, "result");
  const of = (weights) =>
    need(
      r.results?.find((x) => x.weights === weights),
      `result.results[${weights}]`,
    );
  const int8 = of("int8");
  const nf4 = of("nf4");
  const f32 = of("float32");
  return [
    `peak RSS of \`llamats generate --weights int8\` on a TinyLlama-1.1B-shaped float32 safetensors (wasm; ${file})`,
    `${ratio(need(int8.peakRssOverFloat32, "int8 peakRssOverFloat32"))} the float32 model (${(int8.float32Bytes / 1e9).toFixed(1)} GB); ` +
      `nf4 ${ratio(nf4.peakRssOverFloat32)}; float32 refused in ${f32.seconds} s (it cannot fit wasm's 4 GiB)`,
  ];
}

function qloraRows() {
  const tiny = record("train-tinyllama-nf4");
  const t = tiny.need(tiny.json.result, "result");
  const [one, two] = ["train-llama7b-nf4-1layer", "train-llama7b-nf4-2layer"].map((name) => record(name));
  const peaks = [one, two].map((x) => x.need(x.json.result?.gpu_peak_bytes, "result.gpu_peak_bytes"));
  const perLayer = peaks[1] - peaks[0];
  const projected = peaks[0] + 31 * perLayer;
  return [
    [
      `LoRA on an NF4 base, TinyLlama-1.1B shape, batch ${t.shape.batch} × ${t.shape.seq} (wasm; ${tiny.file})`,
      `${(t.ours.step_ms / 1000).toFixed(1)} s a step; tensors flat across steps (${t.memory.num_tensors_per_step.join(", ")}); RSS ${Math.max(...t.memory.rss_mib_per_step)} MiB`,
    ],
    [
      `LoRA on an NF4 base, LLaMA-7B layer shapes, 1 and 2 of its 32 layers, batch 1 × ${two.json.result.shape.seq} (webgpu on lavapipe; ${one.file}, ${two.file})`,
      `peak GPU memory ${gibs(peaks[0])} and ${gibs(peaks[1])}: ${gibs(perLayer)} a layer, so ${gibs(projected)} projected for all 32 (goal ≤ 8 GiB; not measured on a GPU)`,
    ],
  ];
}

/**
 * Peak GPU bytes of LoRA runs at 1 and 2 layers × 1 and 2 sequences, projected linearly (in layers and in positions)
 * to the whole model at the PyTorch anchor's batch, 4 × 512.
 */
function projectedPeak(prefix, layers) {
  const runs = ["1layer-m1", "2layer-m1", "1layer-m2", "2layer-m2"].map((n) => record(`${prefix}-${n}`));
  const [p11, p21, p12, p22] = runs.map((x) => x.need(x.json.result?.gpu_peak_bytes, "result.gpu_peak_bytes"));
  const seq = runs[0].need(runs[0].json.result?.shape?.seq, "result.shape.seq");
  // peak = base(s) + layers · layer(s), each linear in the positions s a micro-batch holds (1 and 2 sequences measured).
  const at = (y1, y2, sequences) => y1 + ((sequences * 512) / seq - 1) * (y2 - y1);
  const layer = at(p21 - p11, p22 - p12, 4);
  const base = at(p11 - (p21 - p11), p12 - (p22 - p12), 4);
  return { peaks: [p11, p21, p12, p22], seq, projected: base + layers * layer };
}

const gibs = (b) => `${(b / 2 ** 30).toFixed(2)} GiB`;

function webgpuTrainMemoryRows() {
  const tiny = projectedPeak("train-tinyllama-webgpu", 22);
  const b7 = projectedPeak("train-llama7b-bf16-ckpt", 32);
  return [
    [
      `LoRA (q, v; r 8; dropout 0.05) on TinyLlama-1.1B's shapes, float32 base, 1 and 2 of its 22 layers × 1 and 2 sequences of ${tiny.seq} (webgpu on lavapipe; bench/results/train-tinyllama-webgpu-{1,2}layer-m{1,2}.json)`,
      `peak GPU memory ${tiny.peaks.map(gibs).join(", ")} (every buffer, tfjs's pool included): linear in layers and sequences, 22 layers × 4 sequences of 512 (the PyTorch anchor's batch) project to ${gibs(tiny.projected)}; PyTorch + PEFT fp32 peaked at 13.4 GiB on an H100 (goal: at most that; a projection, not measured on a GPU)`,
    ],
    [
      `the same on LLaMA-7B's shapes with a bf16 base and gradient checkpointing, 1 and 2 of its 32 layers × 1 and 2 sequences of ${b7.seq} (webgpu on lavapipe; bench/results/train-llama7b-bf16-ckpt-{1,2}layer-m{1,2}.json)`,
      `peak GPU memory ${b7.peaks.map(gibs).join(", ")}: 32 layers × 4 sequences of 512 project to ${gibs(b7.projected)} (goal: at most 24 GiB; PyTorch + PEFT bf16 peaked at 24.1 GiB without checkpointing; a projection, not measured on a GPU)`,
    ],
  ];
}

function whereWeStand() {
  const rows = [
    ...exactnessRows(),
    trajectoryRow(),
    ...tokenizerRows(),
    generateRow("generate"),
    generateRow("generate-1thread"),
    trainRow(),
    loadMemoryRow(),
    packedGenerateMemoryRow(),
    ...qloraRows(),
    ...webgpuTrainMemoryRows(),
  ];
  const records = [
    "exactness",
    "trajectory",
    "tokenizer",
    "generate",
    "generate-1thread",
    "train",
    "load-memory",
    "tinyllama-weights-file",
    "train-tinyllama-nf4",
    "train-llama7b-nf4-1layer",
    "train-llama7b-nf4-2layer",
    "train-tinyllama-webgpu-1layer-m1",
    "train-tinyllama-webgpu-2layer-m1",
    "train-tinyllama-webgpu-1layer-m2",
    "train-tinyllama-webgpu-2layer-m2",
    "train-llama7b-bf16-ckpt-1layer-m1",
    "train-llama7b-bf16-ckpt-2layer-m1",
    "train-llama7b-bf16-ckpt-1layer-m2",
    "train-llama7b-bf16-ckpt-2layer-m2",
  ].map((name) => record(name).json);
  const machine = records[0].machine;
  const other = records.find((r) => r.machine.cpu !== machine.cpu || r.machine.cores !== machine.cores);
  if (other)
    throw new Error(`bench/results/${other.name}.json was measured on another machine: record them all on one`);
  const dates = [...new Set(records.map((r) => day(r.startedAt)))].sort();
  const loads = records.flatMap((r) => [r.machine.loadAverageAtStart[0], r.machine.loadAverageAtEnd[0]]);
  const table = ["| check | result |", "| --- | --- |", ...rows.map(([check, result]) => `| ${check} | ${result} |`)];
  return [
    ...table,
    "",
    `Measured on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB, Node.js ${machine.node}) on ` +
      `${dates.join(" and ")}, with the commands recorded in \`bench/results/\` (\`node scripts/bench-record.mjs\` ` +
      `writes them). The machine was shared with other work (1-minute load average ${Math.min(...loads)}–` +
      `${Math.max(...loads)} during the runs): absolute figures move from run to run, ratios measured in the same run ` +
      "move less.",
  ].join("\n");
}

function demo() {
  const { json, need, file } = record("demo");
  const r = need(json.result, "result");
  const before = need(r.before, "result.before");
  const after = need(r.after, "result.after");
  const percent = (x) => `${(100 * x).toFixed(1)}%`;
  return (
    `What \`llamats demo\` printed on ${json.machine.cpu} (${json.machine.cores} cores) on ${day(json.startedAt)} ` +
    `(\`${file}\`): ${r.steps} LoRA steps on ${r.backend}, ${Math.round(r.seconds)} s in all; on ${before.total} ` +
    `held-out instructions whose inputs never appear in training, exact match ${before.correct}/${before.total} → ` +
    `${after.correct}/${after.total}, response-token accuracy ${percent(before.tokenAccuracy)} → ` +
    `${percent(after.tokenAccuracy)}, response loss ${before.loss.toFixed(2)} → ${after.loss.toFixed(2)}.`
  );
}

/** The generated blocks: marker name → renderer. */
const BLOCKS = { demo, "where-we-stand": whereWeStand };

function render(readme) {
  let out = readme;
  for (const [name, renderBlock] of Object.entries(BLOCKS)) {
    const begin = `<!-- ${name}: generated by scripts/readme-table.mjs from bench/results; do not edit -->`;
    const end = `<!-- /${name} -->`;
    const a = out.indexOf(begin);
    const b = out.indexOf(end);
    if (a < 0 || b < a) throw new Error(`README.md lacks the markers\n${begin}\n…\n${end}`);
    out = `${out.slice(0, a + begin.length)}\n\n${renderBlock()}\n\n${out.slice(b)}`;
  }
  return out;
}

async function main() {
  const check = process.argv.includes("--check");
  const current = readFileSync(readmePath, "utf8");
  const options = { ...(await prettier.resolveConfig(readmePath)), filepath: readmePath };
  const expected = await prettier.format(render(current), options);
  if (check) {
    if (expected !== current) {
      console.error(
        "README.md's generated parts disagree with bench/results/*.json: run node scripts/readme-table.mjs " +
          "(and commit), or record the benchmark again with node scripts/bench-record.mjs",
      );
      process.exit(1);
    }
    console.log("README.md's generated parts agree with bench/results/*.json");
    return;
  }
  writeFileSync(`${readmePath}.tmp`, expected);
  renameSync(`${readmePath}.tmp`, readmePath);
  console.log(expected === current ? "README.md was up to date" : "README.md rewritten from bench/results/*.json");
}

main().catch((error) => {
  console.error(`readme-table: ${error.message}`);
  process.exit(1);
});
