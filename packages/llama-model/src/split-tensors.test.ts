import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, openSafetensors, registerGradients } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkedLinear } from "./chunked-linear.js";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { TINY_DIR, readTinyExpected, type TinyExpected } from "./testing/fixtures.js";
import { TEST_BACKENDS, readScalar } from "@llamats/core/testing";
import { LLAMA3_SMALL } from "./testing/tiny-configs.js";
import { parseChunkName, rowChunks } from "./weight-chunks.js";

/** llama1-tiny's 2000 × 64 float32 tables are 512 000 bytes: this limit makes three chunks of each. */
const SMALL_LIMIT = 200_000;

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  return await readScalar(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b)))));
}

/** Gradients by HF name, row chunks concatenated back into their tensor. */
function gradsByHfName(model: LlamaForCausalLM, ids: number[][], labels: number[][]): Map<string, tf.Tensor> {
  const names = new Map([...model.namedParameters()].map(([name, v]) => [v, name]));
  const { value, grads } = tf.variableGrads(() => {
    const { logits, loss } = model.forward(ids, { labels });
    logits.dispose();
    return loss!;
  }, model.trainableVariables());
  value.dispose();
  const parts = new Map<string, { start: number; grad: tf.Tensor }[]>();
  for (const v of model.trainableVariables()) {
    const key = names.get(v)!;
    const chunk = parseChunkName(key);
    const list = parts.get(chunk?.name ?? key) ?? [];
    list.push({ start: chunk?.start ?? 0, grad: grads[v.name] });
    parts.set(chunk?.name ?? key, list);
  }
  const out = new Map<string, tf.Tensor>();
  for (const [name, list] of parts) {
    list.sort((a, b) => a.start - b.start);
    out.set(
      name,
      list.length === 1
        ? list[0].grad
        : tf.concat(
            list.map((p) => p.grad),
            0,
          ),
    );
    if (list.length > 1) tf.dispose(list.map((p) => p.grad));
  }
  return out;
}

describe("rowChunks", () => {
  it("keeps a tensor that fits whole and splits one that does not into near-equal chunks within the limit", () => {
    expect(rowChunks(2000, 64, 512_000)).toEqual([[0, 2000]]);
    expect(rowChunks(2000, 64, SMALL_LIMIT)).toEqual([
      [0, 667],
      [667, 1334],
      [1334, 2000],
    ]);
    // A 128k × 4096 head on WebGPU: 2 GiB exactly is one byte too many.
    expect(rowChunks(131_072, 4096, 2 ** 31 - 1)).toHaveLength(2);
  });
});

describe.each(TEST_BACKENDS)("embeddings and lm_head split into row chunks on %s", { timeout: 120_000 }, (backend) => {
  let whole: LlamaForCausalLM;
  let split: LlamaForCausalLM;
  let expected: TinyExpected;
  let tmp: string;

  beforeAll(async () => {
    await initBackend({ backend });
    await registerGradients();
    expected = await readTinyExpected();
    whole = await LlamaForCausalLM.fromPretrained(TINY_DIR);
    split = await LlamaForCausalLM.fromPretrained(TINY_DIR, { maxTensorBytes: SMALL_LIMIT });
    tmp = await mkdtemp(join(tmpdir(), "llama-split-"));
  }, 120_000);
  afterAll(async () => {
    whole?.dispose();
    split?.dispose();
    await rm(tmp, { recursive: true, force: true });
  });

  it("is never split on cpu/wasm unless asked; asked, holds 3 chunks of each and a chunked lm_head", () => {
    expect(whole.namedParameters().has("model.embed_tokens.weight")).toBe(true);
    const names = [...split.namedParameters().keys()];
    expect(names.filter((n) => n.startsWith("model.embed_tokens.weight"))).toEqual([
      "model.embed_tokens.weight[0:667]",
      "model.embed_tokens.weight[667:1334]",
      "model.embed_tokens.weight[1334:2000]",
    ]);
    expect(names.filter((n) => n.startsWith("lm_head.weight"))).toHaveLength(3);
    const head = split.getLinear("lm_head");
    expect(head).toBeInstanceOf(ChunkedLinear);
    expect([head.inFeatures, head.outFeatures]).toEqual([64, 2000]);
  });

  it("logits and loss equal the unsplit model (and transformers within 1e-4)", async () => {
    const options = { attentionMask: expected.attentionMask, labels: expected.labels };
    const a = whole.forward(expected.inputIds, options);
    const b = split.forward(expected.inputIds, options);
    // Per-chunk products are the full product's columns: bit-identical.
    expect(await maxAbsDiff(b.logits, a.logits)).toBe(0);
    expect(await maxAbsDiff(b.loss!, a.loss!)).toBe(0);
    expect(Math.abs((await b.loss!.data())[0] - expected.loss)).toBeLessThan(1e-4);
    tf.dispose([a.logits, a.loss!, b.logits, b.loss!]);
  });

  it("gradients equal the unsplit model, all trainable and with embed_tokens/lm_head frozen", async () => {
    const ids = [expected.inputIds[0]];
    const labels = [expected.labels[0]];
    for (const frozen of [false, true]) {
      const predicate = (name: string): boolean =>
        !frozen || !(name === "model.embed_tokens.weight" || name === "lm_head.weight");
      whole.setTrainable(predicate);
      split.setTrainable(predicate);
      const before = tf.memory().numTensors;
      const ga = gradsByHfName(whole, ids, labels);
      const gb = gradsByHfName(split, ids, labels);
      expect([...gb.keys()].sort()).toEqual([...ga.keys()].sort());
      expect(gb.has("lm_head.weight")).toBe(!frozen);
      // The head's input gradient sums over chunks, in a different order than one matmul: float32 rounding.
      for (const [name, g] of ga) expect(await maxAbsDiff(gb.get(name)!, g), name).toBeLessThan(1e-6);
      tf.dispose([...ga.values(), ...gb.values()]);
      expect(tf.memory().numTensors).toBe(before);
    }
    whole.setTrainable(() => true);
    split.setTrainable(() => true);
  });

  it("greedy generation gives transformers ids; tensors stay flat", async () => {
    const before = tf.memory().numTensors;
    const [out] = await split.generate(expected.greedyIds.slice(0, 8), { maxNewTokens: 16 });
    expect(out).toEqual(expected.greedyIds);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("savePretrained writes the HF tensors whole; reloading, split or not, round-trips", async () => {
    const dir = join(tmp, backend);
    await split.savePretrained(dir);
    const reader = await openSafetensors(join(dir, "model.safetensors"));
    expect(reader.info("model.embed_tokens.weight").shape).toEqual([2000, 64]);
    expect(reader.info("lm_head.weight").shape).toEqual([2000, 64]);
    expect(reader.has("lm_head.weight[0:667]")).toBe(false);
    await reader.close();
    for (const maxTensorBytes of [undefined, SMALL_LIMIT]) {
      const loaded = await LlamaForCausalLM.fromPretrained(dir, maxTensorBytes ? { maxTensorBytes } : {});
      const a = whole.forward(expected.inputIds, { attentionMask: expected.attentionMask });
      const b = loaded.forward(expected.inputIds, { attentionMask: expected.attentionMask });
      expect(await maxAbsDiff(b.logits, a.logits)).toBeLessThan(1e-6);
      tf.dispose([a.logits, b.logits]);
      loaded.dispose();
    }
  });

  it("tied embeddings share their chunks with the head (LLaMA-3 style config)", async () => {
    const tiedWhole = LlamaForCausalLM.fromConfig(LLAMA3_SMALL, { seed: 5 });
    // 101 × 48 float32 = 19 392 bytes: 7 000 makes 3 chunks.
    const tiedSplit = LlamaForCausalLM.fromConfig(LLAMA3_SMALL, { seed: 5, maxTensorBytes: 7000 });
    const names = [...tiedSplit.namedParameters().keys()];
    expect(names.filter((n) => n.startsWith("model.embed_tokens.weight"))).toHaveLength(3);
    expect(names.some((n) => n.startsWith("lm_head"))).toBe(false);
    expect((tiedSplit.getLinear("lm_head") as ChunkedLinear).weights).toEqual(
      names.filter((n) => n.startsWith("model.embed")).map((n) => tiedSplit.namedParameters().get(n)),
    );
    const ids = [[1, 5, 9, 14, 22, 7, 3, 40, 100]];
    const labels = [[-100, 5, 9, 14, 22, 7, 3, 40, 100]];
    const a = tiedWhole.forward(ids, { labels });
    const b = tiedSplit.forward(ids, { labels });
    expect(await maxAbsDiff(b.logits, a.logits)).toBeLessThan(1e-6);
    const ga = gradsByHfName(tiedWhole, ids, labels);
    const gb = gradsByHfName(tiedSplit, ids, labels);
    for (const [name, g] of ga) expect(await maxAbsDiff(gb.get(name)!, g), name).toBeLessThan(1e-6);
    tf.dispose([a.logits, a.loss!, b.logits, b.loss!, ...ga.values(), ...gb.values()]);
    tiedWhole.dispose();
    tiedSplit.dispose();
  });
});
