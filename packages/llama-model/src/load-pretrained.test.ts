import { loadFailure } from "./testing/load-failure.js";
import { readScalar } from "@llamats/core/testing";
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, openSafetensors, writeSafetensors, type TensorToWrite } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { TINY_DIR, readTinyExpected } from "./testing/fixtures.js";

let work: string;
let weights: Record<string, TensorToWrite>;

async function repoWith(
  name: string,
  tensors: Record<string, TensorToWrite>,
  config?: Record<string, unknown>,
): Promise<string> {
  const dir = join(work, name);
  await import("node:fs/promises").then((fs) => fs.mkdir(dir, { recursive: true }));
  await writeSafetensors(join(dir, "model.safetensors"), tensors);
  const raw = JSON.parse(await readFile(join(TINY_DIR, "config.json"), "utf8")) as Record<string, unknown>;
  await writeFile(join(dir, "config.json"), JSON.stringify({ ...raw, ...config }));
  return dir;
}

describe("fromPretrained / savePretrained", () => {
  beforeAll(async () => {
    await initBackend({ backend: "cpu" });
    work = await mkdtemp(join(tmpdir(), "llama-model-test-"));
    const reader = await openSafetensors(join(TINY_DIR, "model.safetensors"));
    weights = {};
    for (const name of reader.names())
      weights[name] = { shape: reader.info(name).shape, data: await reader.readFloat32(name) };
    await reader.close();
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("loads BF16 shards through model.safetensors.index.json, ignores extra tensors, needs no tokenizer", async () => {
    const dir = join(work, "sharded");
    await import("node:fs/promises").then((fs) => fs.mkdir(dir, { recursive: true }));
    const names = Object.keys(weights);
    const half = Math.ceil(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      const tensors: Record<string, TensorToWrite> = {};
      for (const n of shard) {
        tensors[n] = { ...weights[n], dtype: "BF16" };
        weightMap[n] = file;
      }
      if (i === 1) {
        tensors["model.layers.0.self_attn.rotary_emb.inv_freq"] = { shape: [8], data: new Float32Array(8) };
        weightMap["model.layers.0.self_attn.rotary_emb.inv_freq"] = file;
      }
      await writeSafetensors(join(dir, file), tensors);
    }
    await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    await copyFile(join(TINY_DIR, "config.json"), join(dir, "config.json"));
    const model = await LlamaForCausalLM.fromPretrained(dir);
    const q = await model.namedParameters().get("model.layers.1.self_attn.q_proj.weight")!.data();
    const original = weights["model.layers.1.self_attn.q_proj.weight"].data as Float32Array;
    let worst = 0;
    for (let i = 0; i < q.length; i++)
      worst = Math.max(worst, Math.abs(q[i] - original[i]) / Math.max(Math.abs(original[i]), 1e-6));
    expect(worst).toBeLessThan(2 ** -8);
    expect(worst).toBeGreaterThan(0);
    const expected = await readTinyExpected();
    const { loss } = model.forward(expected.inputIds, {
      attentionMask: expected.attentionMask,
      labels: expected.labels,
    });
    expect(Math.abs((await loss!.data())[0] - expected.loss)).toBeLessThan(0.05);
    loss!.dispose();
    model.dispose();
  });

  it("names a missing tensor", async () => {
    const { ["model.layers.1.mlp.up_proj.weight"]: _dropped, ...rest } = weights;
    const error = await loadFailure(await repoWith("missing", rest));
    expect(error.message).toContain("model.layers.1.mlp.up_proj.weight");
    expect(error.message).toContain("missing");
  });

  it("names a tensor whose shape does not match config.json", async () => {
    const error = await loadFailure(await repoWith("mismatch", weights, { intermediate_size: 100 }));
    expect(error.message).toMatch(/model\.layers\.0\.mlp\.(down|gate|up)_proj\.weight/);
    expect(error.message).toContain("[172, 64]");
  });

  it("names the file of a truncated checkpoint", async () => {
    const dir = await repoWith("truncated", weights);
    await truncate(join(dir, "model.safetensors"), 600_000);
    const error = await loadFailure(dir);
    expect(error.message).toContain("model.safetensors");
  });

  it("names a missing shard", async () => {
    const dir = join(work, "no-shard");
    await import("node:fs/promises").then((fs) => fs.mkdir(dir, { recursive: true }));
    await writeSafetensors(join(dir, "model-00001-of-00002.safetensors"), {
      "model.norm.weight": weights["model.norm.weight"],
    });
    await writeFile(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify({
        weight_map: {
          "model.norm.weight": "model-00001-of-00002.safetensors",
          "lm_head.weight": "model-00002-of-00002.safetensors",
        },
      }),
    );
    await copyFile(join(TINY_DIR, "config.json"), join(dir, "config.json"));
    const error = await loadFailure(dir);
    expect(error.message).toContain("model-00002-of-00002.safetensors");
  });

  it("names the key of a bad config.json and the missing weights file", async () => {
    const bad = await repoWith("bad-config", weights, { rope_scaling: { rope_type: "yarn", factor: 4 } });
    expect((await loadFailure(bad)).message).toContain("rope_scaling.rope_type");
    const dir = join(work, "no-weights");
    await import("node:fs/promises").then((fs) => fs.mkdir(dir, { recursive: true }));
    await copyFile(join(TINY_DIR, "config.json"), join(dir, "config.json"));
    expect((await loadFailure(dir)).message).toContain("model.safetensors");
  });

  it("savePretrained writes a checkpoint that loads back to the same logits (float32) and close (float16)", async () => {
    const model = await LlamaForCausalLM.fromPretrained(TINY_DIR);
    const expected = await readTinyExpected();
    for (const dtype of ["float32", "float16"] as const) {
      const dir = join(work, `saved-${dtype}`);
      await model.savePretrained(dir, { dtype });
      const config = JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
      expect(config.architectures).toEqual(["LlamaForCausalLM"]);
      expect(config.torch_dtype).toBe(dtype);
      const reader = await openSafetensors(join(dir, "model.safetensors"));
      expect(reader.names().sort()).toEqual(Object.keys(weights).sort());
      expect(reader.info("lm_head.weight").dtype).toBe(dtype === "float32" ? "F32" : "F16");
      await reader.close();
      const again = await LlamaForCausalLM.fromPretrained(dir);
      const a = model.forward(expected.inputIds).logits;
      const b = again.forward(expected.inputIds).logits;
      const diff = await readScalar(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b)))));
      expect(diff).toBeLessThan(dtype === "float32" ? 1e-6 : 0.05);
      tf.dispose([a, b]);
      again.dispose();
    }
    model.dispose();
  });
});
