import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, openSafetensors, registerGradients } from "@llamats/core";
import { startMockHub } from "@llamats/core/testing";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoraLinear } from "./lora-linear.js";
import { getPeftModel, PeftModel } from "./peft-model.js";
import { maxAbsDiff, TINY_DIR, TINY_LORA_DIR } from "./testing/fixtures.js";
import { TEST_BACKENDS } from "@llamats/core/testing";

const IDS = [
  [1, 45, 300, 7, 999, 12, 5, 1500, 42, 8],
  [1, 3, 4, 5, 6, 7, 8, 9, 10, 11],
];

async function tinyConfig(overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return {
    ...(JSON.parse(await readFile(join(TINY_DIR, "config.json"), "utf8")) as Record<string, unknown>),
    ...overrides,
  };
}

async function logits(model: { forward: LlamaForCausalLM["forward"] }): Promise<Float32Array> {
  const { logits: out } = model.forward(IDS);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

describe.each(TEST_BACKENDS)("LoRA variants on %s", { timeout: 30_000 }, (backend) => {
  let tmp: string;
  beforeAll(async () => {
    await initBackend({ backend });
    await registerGradients();
    tmp = await mkdtemp(join(tmpdir(), "peft-lora-variants-"));
  }, 120_000);
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("all-linear + rsLoRA on a GQA model: k/v get their own out size, scaling is alpha/√r, merge agrees within 1e-5 of the logits scale", async () => {
    const gqa = LlamaForCausalLM.fromConfig(await tinyConfig({ num_key_value_heads: 2 }), { seed: 11 });
    const peft = getPeftModel(
      gqa,
      { target_modules: "all-linear", use_rslora: true, r: 4, lora_alpha: 8, init_lora_weights: false },
      { seed: 5 },
    );
    expect(peft.targetModules()).toHaveLength(14);
    expect(peft.config.target_modules).toEqual(peft.targetModules());
    const vars = peft.adapterVariables();
    expect(vars.get("base_model.model.model.layers.1.self_attn.k_proj.lora_A.weight")!.shape).toEqual([4, 64]);
    expect(vars.get("base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight")!.shape).toEqual([32, 4]);
    expect(vars.get("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight")!.shape).toEqual([4, 172]);

    // One layer against the formula, in float64: y = x·Wᵀ + (x·Aᵀ·Bᵀ)·alpha/√r.
    const layer = gqa.getLinear("model.layers.0.self_attn.v_proj") as LoraLinear;
    const x = tf.randomNormal([3, 64], 0, 1, "float32", 9);
    const y = layer.apply(x);
    const [xs, w, a, b, ys] = await Promise.all([
      x.data(),
      gqa.namedParameters().get("model.layers.0.self_attn.v_proj.weight")!.data(),
      layer.adapters.get("default")!.loraA.data(),
      layer.adapters.get("default")!.loraB.data(),
      y.data(),
    ]);
    const want = new Float64Array(3 * 32);
    for (let n = 0; n < 3; n++) {
      const down = Array.from({ length: 4 }, (_, k) =>
        Array.from({ length: 64 }, (_, i) => xs[n * 64 + i] * a[k * 64 + i]).reduce((s, v) => s + v, 0),
      );
      for (let o = 0; o < 32; o++) {
        let base = 0;
        for (let i = 0; i < 64; i++) base += xs[n * 64 + i] * w[o * 64 + i];
        const lora = down.reduce((s, d, k) => s + d * b[o * 4 + k], 0);
        want[n * 32 + o] = base + lora * (8 / Math.sqrt(4));
      }
    }
    expect(maxAbsDiff(ys, want)).toBeLessThan(1e-4);
    tf.dispose([x, y]);

    const unmerged = await logits(peft);
    peft.merge();
    // Float32 reassociation: relative to the logits' magnitude.
    const scale = Math.max(1, ...Array.from(unmerged, Math.abs));
    expect(maxAbsDiff(await logits(peft), unmerged) / scale).toBeLessThan(1e-5);
    peft.unmerge();

    const dir = join(tmp, `gqa-${backend}`);
    await peft.savePretrained(dir);
    const saved = JSON.parse(await readFile(join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    expect(saved.use_rslora).toBe(true);
    expect([...(saved.target_modules as string[])].sort()).toEqual([...peft.targetModules()].sort());
    peft.unload();
    const reloaded = await PeftModel.fromPretrained(gqa, dir);
    // merge + unmerge left float32 rounding in the base weights, hence not exactly 0.
    expect(maxAbsDiff(await logits(reloaded), unmerged) / scale).toBeLessThan(1e-5);
    reloaded.unload();
    gqa.dispose();
  });

  it("trains only adapter variables; dropout acts in train() and not in eval(); tensors stay flat", async () => {
    const model = LlamaForCausalLM.fromConfig(await tinyConfig(), { seed: 2 });
    const peft = getPeftModel(model, { r: 2, lora_dropout: 0.5, init_lora_weights: false }, { seed: 1 });
    expect(peft.targetModules()).toEqual([
      "model.layers.0.self_attn.q_proj",
      "model.layers.0.self_attn.v_proj",
      "model.layers.1.self_attn.q_proj",
      "model.layers.1.self_attn.v_proj",
    ]);
    const trainable = peft.trainableVariables();
    expect(trainable).toHaveLength(8);
    expect(model.trainableVariables().filter((v) => !trainable.includes(v))).toEqual([]);
    expect(peft.isTraining).toBe(true);
    expect(maxAbsDiff(await logits(peft), await logits(peft))).toBeGreaterThan(1e-3);
    peft.eval();
    const before = tf.memory().numTensors;
    const first = await logits(peft);
    expect(maxAbsDiff(await logits(peft), first)).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const report = peft.trainableParameters();
    expect(report.trainable).toBe(2 * 2 * 2 * (64 + 64));
    expect(report.percent).toBeCloseTo((100 * report.trainable) / report.total, 10);
    peft.unload();
    model.dispose();
  });

  it("modules_to_save trains a copy per adapter, saved under its plain name, swapped on setAdapter", async () => {
    const model = LlamaForCausalLM.fromConfig(await tinyConfig(), { seed: 4 });
    const head = () => model.namedParameters().get("lm_head.weight")!;
    const original = (await head().data()) as Float32Array;
    const peft = getPeftModel(model, { r: 2, target_modules: ["q_proj"], modules_to_save: ["lm_head"] }, { seed: 1 });
    const key = "base_model.model.lm_head.weight";
    expect(peft.adapterVariables().get(key)).toBe(head());
    expect(head().trainable).toBe(true);
    const bumped = tf.add(head(), 1);
    head().assign(bumped);
    bumped.dispose();
    peft.addAdapter("other", { r: 2, target_modules: ["v_proj"] });
    peft.setAdapter("other");
    expect(maxAbsDiff(await head().data(), original)).toBe(0);
    expect(head().trainable).toBe(false);
    peft.setAdapter("default");
    expect(
      maxAbsDiff(
        await head().data(),
        original.map((v) => v + 1),
      ),
    ).toBeLessThan(1e-6);
    const dir = join(tmp, `mts-${backend}`);
    await peft.savePretrained(dir, { adapterNames: ["default"] });
    const reader = await openSafetensors(join(dir, "adapter_model.safetensors"));
    expect(reader.names()).toContain(key);
    await reader.close();
    peft.disableAdapters();
    expect(maxAbsDiff(await head().data(), original)).toBe(0);
    peft.unload();
    model.dispose();
  });

  it('bias "lora_only" trains and saves the targets\' biases; a getPeftModel → merge → unmerge → unload cycle leaks no tensors', async () => {
    const model = LlamaForCausalLM.fromConfig(await tinyConfig({ attention_bias: true }), { seed: 6 });
    const start = tf.memory().numTensors;
    const peft = getPeftModel(
      model,
      { r: 2, target_modules: ["q_proj"], bias: "lora_only", modules_to_save: ["lm_head"] },
      { seed: 2 },
    );
    const biasKey = "base_model.model.model.layers.0.self_attn.q_proj.bias";
    const vars = peft.adapterVariables();
    expect(vars.get(biasKey)).toBe(model.namedParameters().get("model.layers.0.self_attn.q_proj.bias"));
    expect(vars.has("base_model.model.model.layers.0.self_attn.k_proj.bias")).toBe(false);
    expect(peft.trainableVariables()).toContain(vars.get(biasKey));
    const dir = join(tmp, `bias-${backend}`);
    await peft.savePretrained(dir);
    const reader = await openSafetensors(join(dir, "adapter_model.safetensors"));
    expect(reader.names()).toContain(biasKey);
    await reader.close();
    peft.merge();
    peft.unmerge();
    peft.unload();
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  });

  it("rank_pattern, alpha_pattern and layers_to_transform set each layer's rank and scaling; fan_in_fan_out is switched off with a warning", async () => {
    const model = LlamaForCausalLM.fromConfig(await tinyConfig(), { seed: 8 });
    const warnings: string[] = [];
    const peft = getPeftModel(
      model,
      {
        r: 4,
        lora_alpha: 8,
        target_modules: ["q_proj", "v_proj"],
        layers_to_transform: [1],
        rank_pattern: { "self_attn.q_proj": 2 },
        alpha_pattern: { v_proj: 32 },
        fan_in_fan_out: true,
      },
      { logger: { warn: (m) => warnings.push(m) } },
    );
    expect(peft.targetModules()).toEqual(["model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"]);
    const q = (model.getLinear("model.layers.1.self_attn.q_proj") as LoraLinear).adapters.get("default")!;
    const v = (model.getLinear("model.layers.1.self_attn.v_proj") as LoraLinear).adapters.get("default")!;
    expect([q.rank, q.scaling, q.loraA.shape]).toEqual([2, 4, [2, 64]]);
    expect([v.rank, v.scaling, v.loraB.shape]).toEqual([4, 8, [64, 4]]);
    expect(peft.config.fan_in_fan_out).toBe(false);
    expect(warnings.join("\n")).toContain("fan_in_fan_out");
    peft.unload();
    model.dispose();
  });

  it("loads an adapter from a Hub repo id (mock Hub) and adds a second one with loadAdapter", async () => {
    const files: Record<string, Uint8Array> = {};
    for (const name of ["adapter_config.json", "adapter_model.safetensors"])
      files[name] = new Uint8Array(await readFile(join(TINY_LORA_DIR, name)));
    const hub = await startMockHub({ repos: [{ id: "someone/tiny-lora", files }] });
    try {
      const base = await LlamaForCausalLM.fromPretrained(TINY_DIR);
      const hubOptions = { hubUrl: hub.url, cacheDir: join(tmp, `hub-${backend}`), accessToken: "" };
      const fromDisk = await PeftModel.fromPretrained(base, TINY_LORA_DIR);
      const want = await logits(fromDisk);
      fromDisk.unload();
      const peft = await PeftModel.fromPretrained(base, "someone/tiny-lora", hubOptions);
      expect(maxAbsDiff(await logits(peft), want)).toBe(0);
      await peft.loadAdapter(TINY_LORA_DIR, "second");
      peft.setAdapter("second");
      expect(maxAbsDiff(await logits(peft), want)).toBe(0);
      peft.unload();
      base.dispose();
    } finally {
      await hub.close();
    }
  });
});
