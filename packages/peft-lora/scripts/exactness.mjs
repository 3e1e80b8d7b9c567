#!/usr/bin/env node
// How close llamats comes to transformers and PEFT on the golden fixtures (test-fixtures/llama1-tiny and
// llama1-tiny-lora, made with transformers 5.17 / PEFT 0.21 in float32): the largest logit difference over the
// unpadded positions, the loss difference and greedy ids, for the base model and with the LoRA adapter, and the
// adapter's gradients, on each backend in a process of its own. Prints one JSON object (scripts/bench-record.mjs commits it for the README).
// Usage: node packages/peft-lora/scripts/exactness.mjs [--backends cpu,wasm,webgpu]   (after npm run build)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { backends: { type: "string", default: "cpu,wasm" }, backend: { type: "string" } },
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
      console.error(`exactness on ${backend} failed (exit ${child.status})`);
      process.exit(1);
    }
    backends[backend] = JSON.parse(child.stdout.trim().split("\n").pop());
  }
  console.log(
    JSON.stringify({
      fixtures:
        "llama1-tiny (transformers 5.17 LlamaForCausalLM, float32, eager) and llama1-tiny-lora (PEFT 0.21, r=8)",
      inputs: "2 × 24 ids, row 1 right-padded after 17, labels -100 on the first 8; greedy: 16 tokens after 8",
      backends,
    }),
  );
  process.exit(0);
}

const tf = await import("@tensorflow/tfjs-core");
const { initBackend, openSafetensors, registerGradients, releaseBackend } = await import("@llamats/core");
const { LlamaForCausalLM } = await import("@llamats/llama-model");
const { PeftModel } = await import("../dist/index.js");

async function readExpected(path) {
  const reader = await openSafetensors(path);
  try {
    const tensors = {};
    for (const name of reader.names()) {
      const t = await reader.read(name);
      tensors[name] = { shape: t.shape, data: Array.from(t.data, Number) };
    }
    return tensors;
  } finally {
    await reader.close();
  }
}

const rows = (t) => Array.from({ length: t.shape[0] }, (_, i) => t.data.slice(i * t.shape[1], (i + 1) * t.shape[1]));

/** Largest |logit difference| over unpadded positions, and |loss difference|. */
async function compare(model, inputs, expected) {
  const mask = rows(inputs.attention_mask);
  const { logits, loss } = model.forward(rows(inputs.input_ids), { attentionMask: mask, labels: rows(inputs.labels) });
  const got = await logits.data();
  const [batch, seq, vocab] = logits.shape;
  let maxAbs = 0;
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < seq; t++) {
      if (mask[b][t] === 0) continue;
      for (let v = 0; v < vocab; v++) {
        const i = (b * seq + t) * vocab + v;
        maxAbs = Math.max(maxAbs, Math.abs(got[i] - expected.logits.data[i]));
      }
    }
  const lossDiff = Math.abs((await loss.data())[0] - expected.loss.data[0]);
  logits.dispose();
  loss.dispose();
  return { maxAbsLogitDiff: Number(maxAbs.toExponential(2)), absLossDiff: Number(lossDiff.toExponential(2)) };
}

/** d loss / d every lora_A and lora_B, against PEFT's: the largest difference relative to each tensor's largest value. */
async function compareGradients(peft, inputs, expectedGrads) {
  const variables = peft.adapterVariables();
  const names = [...variables.keys()];
  const { value, grads } = tf.variableGrads(
    () => {
      const { logits, loss } = peft.forward(rows(inputs.input_ids), {
        attentionMask: rows(inputs.attention_mask),
        labels: rows(inputs.labels),
      });
      logits.dispose();
      return loss;
    },
    names.map((n) => variables.get(n)),
  );
  let worst = 0;
  for (const name of names) {
    const got = await grads[variables.get(name).name].data();
    const want = expectedGrads[name].data;
    const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  }
  tf.dispose(grads);
  value.dispose();
  return { tensors: names.length, maxRelativeGradDiff: Number(worst.toExponential(2)) };
}

const started = await initBackend({ backend: values.backend });
await registerGradients();
const base = await readExpected(fixture("llama1-tiny/expected.safetensors"));
const withLora = await readExpected(fixture("llama1-tiny-lora/expected.safetensors"));
const model = await LlamaForCausalLM.fromPretrained(fixture("llama1-tiny"));
const baseResult = await compare(model, base, base);
const prompt = base.greedy_ids.data.slice(0, 8);
const [greedy] = await model.generate(prompt, { maxNewTokens: 16 });
const greedyIdentical =
  greedy.length === base.greedy_ids.data.length && greedy.every((id, i) => id === base.greedy_ids.data[i]);
const peft = await PeftModel.fromPretrained(model, fixture("llama1-tiny-lora"), { isTrainable: true });
const loraResult = await compare(peft, base, withLora);
const gradients = await compareGradients(
  peft,
  base,
  await readExpected(fixture("llama1-tiny-lora/expected_grads.safetensors")),
);
model.dispose();
releaseBackend(); // a WebGPU device would keep the process alive
console.log(
  JSON.stringify({
    backend: started.backend,
    reason: started.reason,
    base: { ...baseResult, greedyIdentical },
    lora: { ...loraResult, ...gradients },
  }),
);
