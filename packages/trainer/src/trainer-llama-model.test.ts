import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlamaForCausalLM } from '@llamats/llama-model';
import { getPeftModel } from '@llamats/peft-lora';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInitialWeights } from './checkpoint.js';
import { isEvalMetrics, readMetricsLog, type StepMetrics } from './metrics-log.js';
import { useBackend } from './test-support/backends.js';
import { LLAMA1_TINY, TRAJECTORY, parseAdamW, readTensors, readTrajectory, type Trajectory } from './test-support/fixtures.js';
import { loraTrainable } from './trainable-model.js';
import { train } from './trainer.js';
import type { LrSchedulerType } from './lr-schedule.js';

// The same trajectory through the real packages: LlamaForCausalLM + getPeftModel + --init-adapter's loader.
describe('Trainer with @llamats/llama-model + @llamats/peft-lora on the lora-trajectory fixture (wasm)', () => {
  let trajectory: Trajectory;
  let root: string;
  beforeAll(async () => {
    await useBackend('wasm');
    trajectory = await readTrajectory();
    root = await mkdtemp(join(tmpdir(), 'llamats-trainer-real-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('matches every step loss and the final adapter within 1e-4', async () => {
    const { spec } = trajectory;
    const base = await LlamaForCausalLM.fromPretrained(LLAMA1_TINY);
    const peft = getPeftModel(base, { r: spec.lora_r, lora_alpha: spec.lora_alpha, lora_dropout: spec.lora_dropout, target_modules: spec.target_modules });
    const model = loraTrainable(peft);
    await loadInitialWeights(model, `${TRAJECTORY}/adapter_init.safetensors`);
    const adam = parseAdamW(spec.optimizer);
    const outputDir = join(root, 'out');
    await train({
      model,
      outputDir,
      trainData: trajectory.examples,
      microBatchSize: spec.micro_batch_size,
      gradientAccumulationSteps: spec.gradient_accumulation_steps,
      epochs: spec.num_epochs,
      learningRate: spec.learning_rate,
      lrScheduler: spec.lr_scheduler as LrSchedulerType,
      warmupSteps: spec.warmup_steps,
      maxGradNorm: spec.max_grad_norm,
      adamBeta1: adam.beta1,
      adamBeta2: adam.beta2,
      adamEpsilon: adam.epsilon,
      weightDecay: adam.weightDecay,
      shuffle: spec.shuffle,
      padId: spec.pad_id,
    });
    const steps = (await readMetricsLog(join(outputDir, 'metrics.jsonl'))).filter((e): e is StepMetrics => !isEvalMetrics(e));
    expect(steps.length).toBe(trajectory.log.length);
    const worst = Math.max(...steps.map((e, i) => Math.abs(e.loss - trajectory.log[i].loss)));
    expect(worst).toBeLessThan(1e-4);
    const got = await readTensors(join(outputDir, 'adapter_model.safetensors'));
    const want = await readTensors(`${TRAJECTORY}/adapter_final.safetensors`);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    let adapterDiff = 0;
    for (const [name, values] of want) {
      const mine = got.get(name) as Float32Array;
      for (let i = 0; i < values.length; i++) adapterDiff = Math.max(adapterDiff, Math.abs(values[i] - mine[i]));
    }
    expect(adapterDiff).toBeLessThan(1e-4);
    base.dispose();
  });
});
