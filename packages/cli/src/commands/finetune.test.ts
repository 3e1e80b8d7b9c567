import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../run-cli.js';
import { captureContext } from './cli-test-context.fixture.js';

// Golden fixtures live with @llamats/trainer (copied unchanged from shared/fixtures; see its test-fixtures/README.md).
const FIXTURES = fileURLToPath(new URL('../../../trainer/test-fixtures', import.meta.url));

describe('llamats finetune', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llamats-finetune-'));
    const trajectory = JSON.parse(await readFile(join(FIXTURES, 'lora-trajectory', 'trajectory.json'), 'utf8')) as { examples: { input_ids: number[]; labels: number[] }[] };
    const lines = trajectory.examples.slice(0, 8).map((e) => JSON.stringify({ input_ids: e.input_ids, labels: e.labels }));
    await writeFile(join(dir, 'data.jsonl'), `${lines.join('\n')}\n`);
    await writeFile(join(dir, 'run.json'), JSON.stringify({ loraR: 4, lora_alpha: 8, 'target-modules': ['q_proj', 'v_proj'], microBatchSize: 2, batchSize: 4, valSetSize: 2, maxSteps: 2, warmupSteps: 0, saveSteps: 1 }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains on pre-tokenized JSONL with a config file and writes the adapter, checkpoints, metrics and curve', async () => {
    const ctx = captureContext();
    const out = join(dir, 'out');
    const code = await runCli(['finetune', '--model', join(FIXTURES, 'llama1-tiny'), '--data', join(dir, 'data.jsonl'), '--out', out, '--config', join(dir, 'run.json'), '--backend', 'wasm'], ctx);
    expect(ctx.err()).toContain('6 training / 2 validation examples');
    expect(code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'checkpoint-1', 'checkpoint-2', 'loss_curve.svg', 'metrics.jsonl']);
    const config = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8')) as { r: number; lora_alpha: number };
    expect([config.r, config.lora_alpha]).toEqual([4, 8]);
    const metrics = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(metrics.filter((m) => !m.eval).map((m) => m.step)).toEqual([1, 2]);
    expect(metrics.some((m) => m.eval === true && typeof m.perplexity === 'number')).toBe(true);
    expect(ctx.out()).toContain('adapter written to');
  }, 120_000);

  it('rejects a batch size that is not a multiple of the micro-batch size', async () => {
    const ctx = captureContext();
    const code = await runCli(['finetune', '--model', join(FIXTURES, 'llama1-tiny'), '--data', join(dir, 'data.jsonl'), '--batch-size', '6', '--micro-batch-size', '4', '--backend', 'cpu'], ctx);
    expect(code).toBe(1);
    expect(ctx.err()).toMatch(/--batch-size 6 must be a multiple of --micro-batch-size 4/);
  });
});
