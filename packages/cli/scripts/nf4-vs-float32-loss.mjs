#!/usr/bin/env node
// Issue #15's goal "LoRA on an NF4 base: the loss after 50 steps on the demo data within 5% of the float32 base's":
// runs `llamats finetune` twice on the embedded demo base and data (same seed, data order, LoRA and optimizer), once
// with the base float32 and once with --quantize nf4, and prints both loss curves' last steps and their ratio.
// Usage: node packages/cli/scripts/nf4-vs-float32-loss.mjs [--steps 50] [--backend wasm]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: { steps: { type: "string", default: "50" }, backend: { type: "string", default: "wasm" } },
});
const assets = join(cli, "src", "demo", "assets");
const work = mkdtempSync(join(tmpdir(), "llamats-nf4-loss-"));
const common = [
  "finetune",
  "--model",
  join(assets, "base-model"),
  "--data",
  join(assets, "instructions", "train.json"),
  "--lora-r",
  "16",
  "--lora-alpha",
  "32",
  "--lora-dropout",
  "0",
  "--target-modules",
  "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
  "--micro-batch-size",
  "8",
  "--batch-size",
  "8",
  "--lr",
  "3e-3",
  "--warmup-steps",
  "0",
  "--max-steps",
  values.steps,
  "--val-set-size",
  "0",
  "--save-steps",
  "1000",
  "--seed",
  "42",
  "--backend",
  values.backend,
];

function run(label, extra) {
  const out = join(work, label);
  const started = Date.now();
  const result = spawnSync(process.execPath, [join(cli, "bin", "llamats.js"), ...common, "--out", out, ...extra], {
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`${label} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const losses = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((m) => !m.eval)
    .map((m) => m.loss);
  return { losses, seconds: (Date.now() - started) / 1000 };
}

try {
  const float32 = run("float32", []);
  const nf4 = run("nf4", ["--quantize", "nf4"]);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const last = (xs) => xs[xs.length - 1];
  const tail = (xs) => mean(xs.slice(-5));
  console.log(
    JSON.stringify(
      {
        steps: Number(values.steps),
        backend: values.backend,
        float32: {
          first: float32.losses[0],
          last: last(float32.losses),
          meanLast5: tail(float32.losses),
          seconds: float32.seconds,
        },
        nf4: { first: nf4.losses[0], last: last(nf4.losses), meanLast5: tail(nf4.losses), seconds: nf4.seconds },
        lastRatio: last(nf4.losses) / last(float32.losses),
        meanLast5Ratio: tail(nf4.losses) / tail(float32.losses),
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
