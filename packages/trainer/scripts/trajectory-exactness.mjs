#!/usr/bin/env node
// A whole PEFT LoRA fine-tune, step by step, against the lora-trajectory fixture (PEFT + a PyTorch loop: see
// test-fixtures/README.md): the trainer runs the fixture's spec from adapter_init on llama1-tiny, and each step's
// loss and gradient norm and the final adapter are compared with PyTorch's, on each backend in a process of its own.
// Prints one JSON object (scripts/bench-record.mjs commits it for the README).
// Usage: node packages/trainer/scripts/trajectory-exactness.mjs [--backends wasm,webgpu]   (after npm run build)
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { backends: { type: "string", default: "wasm" }, backend: { type: "string" } },
});
const fixture = (path) => fileURLToPath(new URL(`../test-fixtures/${path}`, import.meta.url));

if (values.backend === undefined) {
  const backends = {};
  for (const backend of values.backends.split(",").map((b) => b.trim())) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--backend", backend], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (child.status !== 0) {
      console.error(`the trajectory on ${backend} failed (exit ${child.status})`);
      process.exit(1);
    }
    backends[backend] = JSON.parse(child.stdout.trim().split("\n").pop());
  }
  console.log(JSON.stringify({ fixture: "lora-trajectory (PEFT 0.21 + PyTorch 2.11, float32)", backends }));
  process.exit(0);
}

const { initBackend, openSafetensors, registerGradients, releaseBackend } = await import("@llamats/core");
const { LlamaForCausalLM } = await import("@llamats/llama-model");
const { getPeftModel } = await import("@llamats/peft-lora");
const { loadInitialWeights, loraTrainable, train } = await import("../dist/index.js");

async function readTensors(file) {
  const reader = await openSafetensors(file);
  const out = new Map();
  for (const name of reader.names()) out.set(name, await reader.readFloat32(name));
  await reader.close();
  return out;
}

const started = await initBackend({ backend: values.backend });
await registerGradients();
const trajectory = JSON.parse(await readFile(fixture("lora-trajectory/trajectory.json"), "utf8"));
const { spec } = trajectory;
const adam = /^adamw\(([^,]+),([^,]+),([^,]+),wd=([^)]+)\)$/.exec(spec.optimizer.replace(/\s+/g, ""));
if (!adam) throw new Error(`trajectory.json: unrecognized optimizer "${spec.optimizer}"`);
const base = await LlamaForCausalLM.fromPretrained(fixture("llama1-tiny"));
const peft = getPeftModel(base, {
  r: spec.lora_r,
  lora_alpha: spec.lora_alpha,
  lora_dropout: spec.lora_dropout,
  target_modules: spec.target_modules,
});
base.prepareBackend();
const model = loraTrainable(peft);
await loadInitialWeights(model, fixture("lora-trajectory/adapter_init.safetensors"));
const outputDir = await mkdtemp(join(tmpdir(), "llamats-trajectory-"));
try {
  const summary = await train({
    model,
    outputDir,
    trainData: trajectory.examples,
    microBatchSize: spec.micro_batch_size,
    gradientAccumulationSteps: spec.gradient_accumulation_steps,
    epochs: spec.num_epochs,
    learningRate: spec.learning_rate,
    lrScheduler: spec.lr_scheduler,
    warmupSteps: spec.warmup_steps,
    maxGradNorm: spec.max_grad_norm,
    adamBeta1: Number(adam[1]),
    adamBeta2: Number(adam[2]),
    adamEpsilon: Number(adam[3]),
    weightDecay: Number(adam[4]),
    shuffle: spec.shuffle,
    padId: spec.pad_id,
  });
  const steps = (await readFile(summary.metricsPath, "utf8"))
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.grad_norm !== undefined);
  if (steps.length !== trajectory.log.length)
    throw new Error(`the trainer logged ${steps.length} steps; the trajectory has ${trajectory.log.length}`);
  let lossDiff = 0;
  let gradNormDiff = 0;
  steps.forEach((entry, i) => {
    const want = trajectory.log[i];
    lossDiff = Math.max(lossDiff, Math.abs(entry.loss - want.loss));
    gradNormDiff = Math.max(gradNormDiff, Math.abs(entry.grad_norm - want.grad_norm) / Math.max(1, want.grad_norm));
  });
  const got = await readTensors(join(outputDir, "adapter_model.safetensors"));
  const want = await readTensors(fixture("lora-trajectory/adapter_final.safetensors"));
  let adapterDiff = 0;
  for (const [name, values] of want) {
    const mine = got.get(name);
    if (!mine) throw new Error(`the trained adapter has no ${name}`);
    for (let i = 0; i < values.length; i++) adapterDiff = Math.max(adapterDiff, Math.abs(mine[i] - values[i]));
  }
  peft.unload().dispose();
  releaseBackend(); // a WebGPU device would keep the process alive
  console.log(
    JSON.stringify({
      backend: started.backend,
      steps: steps.length,
      maxStepLossDiff: Number(lossDiff.toExponential(2)),
      maxGradNormDiff: Number(gradNormDiff.toExponential(2)),
      maxFinalAdapterDiff: Number(adapterDiff.toExponential(2)),
    }),
  );
} finally {
  await rm(outputDir, { recursive: true, force: true });
}
