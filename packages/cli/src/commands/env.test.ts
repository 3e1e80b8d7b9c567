import { hasVulkanLoader } from '@llamats/core';
import { describe, expect, it } from 'vitest';
import { runCli } from '../run-cli.js';
import { captureContext } from './cli-test-context.fixture.js';

describe('llamats env', () => {
  it.skipIf(hasVulkanLoader())('--backend webgpu exits non-zero with one paragraph saying what to install', async () => {
    const ctx = captureContext({ HF_HOME: '/nonexistent-hf-home' });
    const code = await runCli(['env', '--backend', 'webgpu'], ctx);
    expect(code).not.toBe(0);
    const err = ctx.err();
    expect(err).toMatch(/^llamats env: The "webgpu" backend is not available here: no WebGPU adapter/);
    expect(err).toContain('npm i webgpu @tensorflow/tfjs-backend-webgpu');
    expect(err).toContain('libvulkan1');
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(ctx.out()).toBe('');
  });

  it('--backend cpu prints versions, the backend and why, and the hub settings from the given env', async () => {
    const ctx = captureContext({ HF_HUB_CACHE: '/tmp/some-hf-cache', HF_ENDPOINT: 'http://127.0.0.1:9', HF_TOKEN: 'hf_x' });
    expect(await runCli(['env', '--backend', 'cpu'], ctx)).toBe(0);
    const out = ctx.out();
    expect(out).toMatch(/^llamats\s+0\.\d+\.\d+ \(@llamats\/core 0\.\d+\.\d+\)$/m);
    expect(out).toMatch(/^node\s+v\d+/m);
    expect(out).toMatch(/^tfjs-core\s+4\.\d+\.\d+$/m);
    expect(out).toMatch(/^backend\s+cpu: cpu requested by name$/m);
    expect(out).toMatch(/^hub cache\s+\/tmp\/some-hf-cache$/m);
    expect(out).toMatch(/^hub endpoint\s+http:\/\/127\.0\.0\.1:9$/m);
    expect(out).toMatch(/^hf token\s+set$/m);
  });

  it('--json prints one JSON object; auto reports wasm threads where wasm is chosen', async () => {
    const ctx = captureContext({ HF_HOME: '/nonexistent-hf-home' });
    expect(await runCli(['env', '--json'], ctx)).toBe(0);
    const report = JSON.parse(ctx.out()) as { backend: { backend: string; reason: string; wasm?: { threads: number } }; hub: { token: boolean } };
    expect(report.backend.reason).toContain(`using ${report.backend.backend}`);
    if (report.backend.backend === 'wasm') expect(report.backend.wasm?.threads).toBeGreaterThanOrEqual(1);
    expect(report.hub.token).toBe(false);
  });

  it('an unknown --backend is refused with the choices', async () => {
    const ctx = captureContext();
    expect(await runCli(['env', '--backend', 'metal'], ctx)).toBe(1);
    expect(ctx.err()).toContain('--backend must be one of auto, tensorflow, webgpu, wasm, cpu; got "metal"');
  });
});
