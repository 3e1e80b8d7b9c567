import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { countGpuDispatches, gpuMemory, registerGradients, resetGpuMemoryPeak, seedDropout } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { getPeftModel } from "@llamats/peft-lora";
import {
  AdamW,
  buildMicroBatch,
  computeStepGradients,
  disposeMicroBatch,
  loraTrainable,
  SeededRng,
  type TrainingExample,
} from "@llamats/trainer";
import type { CommandContext } from "../command.js";
import { BACKEND_USAGE, cliWasmThreads, parseBackendOption } from "../backend-option.js";
import { parseWeightsOption } from "../weights-option.js";
import { pathExists } from "../path-exists.js";
import { startBackend, warnTo } from "../start-backend.js";
import { benchReference } from "./bench-reference.js";
import { gpuDispatchLine } from "./gpu-dispatch-line.js";
import { intOption, readModelShape, SHAPE_OPTIONS, SHAPE_USAGE, type ModelShape } from "./shape-options.js";

const USAGE = `llamats bench train [options]

LoRA training throughput (forward + backward + AdamW on lora_A/lora_B of q_proj,v_proj, r=8, fp32)
for a LLaMA of llama2.c's stories15M shape (dim 288, 6 layers, 6 heads, ffn 768, vocab 32000),
batch 8 × 256 tokens, and the same work in PyTorch (bench-references/torch_cpu_lora.py) in the same run
when python3 with torch is installed (Debian: apt-get install python3-torch libopenblas0-pthread).

Options:
  --steps <n>          timed optimizer steps after one warm-up step (default 3)
  --batch <n>          sequences per step (default 8)
  --micro-batch <n>    sequences per forward/backward, accumulated over the step (default 2: a whole
                       8 × 256 × 32000 logits batch and its gradient overflow wasm's 4 GiB heap)
  --seq <n>            tokens per sequence (default 256)
${SHAPE_USAGE}
  --torch-script <py>  the PyTorch anchor (default: the CLI's bench-references/torch_cpu_lora.py)
  --python <exe>       python with torch (default: python3, then /usr/bin/python3)
  --threads <n>        wasm threads (default: every core, like PyTorch's 2 here; LLAMATS_WASM_THREADS)
  --base-dtype <float32|bfloat16>  the frozen projections in bf16, widened inside the matmul (default float32)
  --quantize <nf4|int8>  the frozen projections packed as NF4 (block 64) or Q8_0 (QLoRA's setting)
  --lora-dropout <p>   dropout on the LoRA input (default 0.05: alpaca-lora's and the PyTorch anchors'; the
                       masks are hashed on the device, and the PyTorch side drops the same fraction)
  --gradient-checkpointing   recompute each decoder layer in the backward pass (less activation memory)
  --no-torch           skip the PyTorch side (it trains a float32 base either way)
  --json               print one JSON object instead of text
${BACKEND_USAGE.replace("default auto: fastest available", "default wasm")}`;

interface BenchShape extends ModelShape {
  seq: number;
  batch: number;
}

interface TorchResult {
  train_tokens_per_s: number;
  step_ms: number;
  anchor: string;
  threads: number;
}

async function findTorchScript(given: string | undefined, cwd: string): Promise<string | null> {
  const candidates = given
    ? [resolve(cwd, given)]
    : // The copy the CLI ships (bench-references/), so a fresh clone runs the peer too.
      [benchReference("torch_cpu_lora.py")].filter((path) => path !== null);
  for (const path of candidates) if (await pathExists(path)) return path;
  return null;
}

/** Runs the PyTorch anchor; a string says why it did not run. */
function runTorch(
  python: string,
  script: string,
  shape: BenchShape,
  steps: number,
  dropout: number,
  signal: AbortSignal,
): Promise<TorchResult | string> {
  const args = [script, ...Object.entries({ ...shape, steps, dropout }).map(([k, v]) => `${k}=${v}`)];
  return new Promise((done) => {
    execFile(
      python,
      args,
      { env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? "2" }, signal, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          const text = `${stderr}`;
          if (/No module named 'torch'/.test(text))
            return done(`python3 has no torch (Debian: apt-get install python3-torch libopenblas0-pthread)`);
          if ((error as NodeJS.ErrnoException).code === "ENOENT") return done(`${python} was not found`);
          return done(`the PyTorch anchor failed: ${text.trim().split("\n").pop() ?? error.message}`);
        }
        const line = stdout.trim().split("\n").pop() ?? "";
        try {
          return done(JSON.parse(line) as TorchResult);
        } catch {
          return done(`the PyTorch anchor printed no JSON result (${line.slice(0, 200)})`);
        }
      },
    );
  });
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}

function randomExamples(shape: BenchShape, seed: number): TrainingExample[] {
  const rng = new SeededRng(seed);
  return Array.from({ length: shape.batch }, () => ({
    input_ids: Array.from({ length: shape.seq }, () => rng.nextInt(shape.vocab)),
  }));
}

/** `llamats bench train`: our LoRA step time on the stories15M shape vs PyTorch CPU, same run. */
export async function runTrainBench(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      steps: { type: "string" },
      batch: { type: "string" },
      "micro-batch": { type: "string" },
      seq: { type: "string" },
      ...SHAPE_OPTIONS,
      backend: { type: "string" },
      threads: { type: "string" },
      "torch-script": { type: "string" },
      python: { type: "string" },
      "no-torch": { type: "boolean", default: false },
      "base-dtype": { type: "string" },
      quantize: { type: "string" },
      json: { type: "boolean", default: false },
      "gradient-checkpointing": { type: "boolean", default: false },
      "lora-dropout": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    ctx.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const shape: BenchShape = {
    ...readModelShape(values).shape,
    seq: intOption(values, "seq", 256),
    batch: intOption(values, "batch", 8),
  };
  const steps = intOption(values, "steps", 3);
  const quantize = parseWeightsOption(values.quantize, "--quantize", ["nf4", "int8"]);
  const baseDtype = parseWeightsOption(values["base-dtype"], "--base-dtype", ["float32", "bfloat16"]);
  if (quantize && baseDtype) {
    ctx.stderr.write("llamats bench train: give --quantize or --base-dtype, not both.\n");
    return 2;
  }
  const weights = quantize ?? baseDtype ?? "float32";
  const microBatch = Math.min(shape.batch, intOption(values, "micro-batch", 2));
  const loraDropout = values["lora-dropout"] === undefined ? 0.05 : Number(values["lora-dropout"]);
  if (!(loraDropout >= 0 && loraDropout < 1)) {
    ctx.stderr.write(
      `llamats bench train: --lora-dropout must be a number in [0, 1), found "${values["lora-dropout"]}".\n`,
    );
    return 2;
  }
  const say = (line: string) => {
    if (!values.json) ctx.stderr.write(`${line}\n`);
  };

  const backend = await startBackend({
    warn: warnTo(ctx.stderr),
    backend: values.backend === undefined ? "wasm" : parseBackendOption(values.backend),
    wasmThreads: intOption(values, "threads", cliWasmThreads(ctx.env)),
  });
  await registerGradients();
  say(
    `backend ${backend.backend} (${backend.reason}${backend.wasm ? `, ${backend.wasm.threads} wasm thread(s)` : ""}); shape ${JSON.stringify(shape)}; micro-batch ${microBatch}; ${steps} timed steps after 1 warm-up`,
  );
  const model = LlamaForCausalLM.fromConfig(
    {
      model_type: "llama",
      hidden_size: shape.dim,
      num_hidden_layers: shape.layers,
      num_attention_heads: shape.heads,
      num_key_value_heads: shape.kvHeads,
      intermediate_size: shape.ffn,
      vocab_size: shape.vocab,
      max_position_embeddings: Math.max(shape.seq, 256),
      rms_norm_eps: 1e-6,
      tie_word_embeddings: false,
    },
    { seed: 0, weights },
  );
  const checkpointing = values["gradient-checkpointing"] ?? false;
  model.gradientCheckpointing = checkpointing;
  const peft = getPeftModel(
    model,
    { r: 8, lora_alpha: 16, lora_dropout: loraDropout, target_modules: ["q_proj", "v_proj"] },
    { seed: 0 },
  );
  const trainable = loraTrainable(peft);
  const variables = trainable.namedTrainableVariables();
  const optimizer = new AdamW(variables, { weightDecay: 0 });
  const examples = randomExamples(shape, 0);
  const stepTimes: number[] = [];
  const tensorCounts: number[] = [];
  const rss: number[] = [];
  // Null off webgpu; on it, kernel fusion shows as fewer dispatches per step.
  const dispatches = countGpuDispatches();
  const stepDispatches: number[] = [];
  // Null off webgpu; on it, the most GPU buffer bytes held at once during each step (tfjs's buffer pool included).
  const stepPeakBytes: number[] = [];
  try {
    for (let step = 0; step <= steps; step++) {
      if (ctx.signal.aborted) return 130;
      const dispatchesBefore = dispatches?.count() ?? 0;
      resetGpuMemoryPeak();
      const t0 = performance.now();
      const batches = chunk(examples, microBatch).map((group) => buildMicroBatch(group, 0));
      seedDropout(step);
      const { grads, loss } = computeStepGradients(trainable, batches, variables);
      optimizer.applyGradients(grads, 3e-4);
      tf.dispose([...grads.values()]);
      batches.forEach(disposeMicroBatch);
      // The one read a step: it also waits for the step's device work, so the time includes it.
      const lossValue = (await loss.data())[0];
      loss.dispose();
      const ms = performance.now() - t0;
      const stepDispatchCount = dispatches ? dispatches.count() - dispatchesBefore : null;
      if (step > 0 && stepDispatchCount !== null) stepDispatches.push(stepDispatchCount);
      const peakBytes = gpuMemory()?.peakBytes ?? null;
      if (step > 0 && peakBytes !== null) stepPeakBytes.push(peakBytes);
      tensorCounts.push(tf.memory().numTensors);
      rss.push(process.memoryUsage().rss);
      if (step > 0) stepTimes.push(ms);
      say(
        `  ${step === 0 ? "warm-up" : `step ${step}`}: ${(ms / 1000).toFixed(2)} s, loss ${lossValue.toFixed(4)}, ${Math.round((shape.batch * shape.seq * 1000) / ms)} tokens/s, ${tf.memory().numTensors} tensors, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB${stepDispatchCount === null ? "" : `, ${stepDispatchCount} GPU dispatches`}${peakBytes === null ? "" : `, peak GPU ${(peakBytes / 2 ** 20).toFixed(1)} MiB`}`,
      );
    }
  } finally {
    dispatches?.stop();
    optimizer.dispose();
    model.dispose();
  }
  const meanMs = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length;
  const dispatchesPerStep =
    stepDispatches.length > 0 ? stepDispatches.reduce((a, b) => a + b, 0) / stepDispatches.length : null;
  const ours = (shape.batch * shape.seq * 1000) / meanMs;

  let torch: TorchResult | string = "skipped (--no-torch)";
  if (!values["no-torch"] && shape.kvHeads !== shape.heads) {
    // The CPU anchor script has no grouped-query attention: its work would not be ours.
    torch = `skipped: torch_cpu_lora.py has no --kv-heads (it would run ${shape.heads} key/value heads, not ${shape.kvHeads})`;
  } else if (!values["no-torch"]) {
    const script = await findTorchScript(values["torch-script"], ctx.cwd);
    if (!script) torch = "bench-references/torch_cpu_lora.py was not found (give --torch-script)";
    else {
      // pyenv's python3 often lacks Debian's python3-torch, which /usr/bin/python3 has.
      for (const python of values.python ? [values.python] : ["python3", "/usr/bin/python3"]) {
        say(`running the PyTorch anchor with ${python} …`);
        torch = await runTorch(python, script, shape, Math.max(steps, 3), loraDropout, ctx.signal);
        if (typeof torch !== "string") break;
      }
    }
  }
  const result = {
    bench: "train",
    backend: backend.backend,
    shape,
    base_weights: weights,
    steps,
    micro_batch: microBatch,
    ours: { tokens_per_s: ours, step_ms: meanMs },
    torch: typeof torch === "string" ? { skipped: torch } : torch,
    ratio: typeof torch === "string" ? null : ours / torch.train_tokens_per_s,
    gpu_dispatches_per_step: dispatchesPerStep,
    gradient_checkpointing: checkpointing,
    lora_dropout: loraDropout,
    // Exact (every buffer the webgpu device created and has not destroyed), unlike nvidia-smi's sampled figure.
    gpu_peak_bytes: stepPeakBytes.length > 0 ? Math.max(...stepPeakBytes) : null,
    memory: { num_tensors_per_step: tensorCounts, rss_mib_per_step: rss.map((r) => Math.round(r / 2 ** 20)) },
  };
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  ctx.stdout.write(
    `llamats (${backend.backend}, ${weights} base): ${ours.toFixed(0)} tokens/s (${(meanMs / 1000).toFixed(2)} s a step)\n`,
  );
  ctx.stdout.write(
    `${gpuDispatchLine({ perUnit: dispatchesPerStep, unit: "optimizer step", backend: backend.backend })}\n`,
  );
  if (result.gpu_peak_bytes !== null)
    ctx.stdout.write(
      `peak GPU memory a step: ${(result.gpu_peak_bytes / 2 ** 20).toFixed(1)} MiB (every webgpu buffer)\n`,
    );
  if (typeof torch === "string") ctx.stdout.write(`PyTorch: not run — ${torch}\n`);
  else
    ctx.stdout.write(
      `PyTorch (${torch.anchor}, ${torch.threads} threads): ${torch.train_tokens_per_s.toFixed(0)} tokens/s (${(torch.step_ms / 1000).toFixed(2)} s a step)\nratio llamats / PyTorch: ${(ours / torch.train_tokens_per_s).toFixed(3)}×\n`,
    );
  return 0;
}
