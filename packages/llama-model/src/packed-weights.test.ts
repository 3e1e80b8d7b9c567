import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { ResourceLimitError, maxBindingBytes, type FrozenWeightFormat } from "@llamats/core";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLlamaConfig } from "./config.js";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { checkActivationsFit, checkModelFits, estimateModelBytes } from "./memory-estimate.js";
import { dequantizedValues } from "./save-pretrained.js";

/** GQA, untied head; every projection's in-features a multiple of 64 (whole NF4 blocks per row). */
const PACKABLE = {
  model_type: "llama",
  vocab_size: 97,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
  initializer_range: 0.2,
  bos_token_id: 1,
  eos_token_id: 2,
};
const IDS = [
  [1, 7, 33, 90, 12, 5, 64, 2],
  [1, 70, 3, 3, 9, 11, 41, 8],
];
const FORMATS: FrozenWeightFormat[] = ["bfloat16", "int8", "nf4"];
/** Packed and reference models multiply the same float32 weight values; only summation order differs. */
const TOLERANCE = 1e-4;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return a.length === b.length ? worst : Infinity;
}

/** The float32 model with each packed weight replaced by what the packed model's weight dequantizes to (core's dequantizers). */
async function dequantizedTwin(
  packed: LlamaForCausalLM,
  seed: number,
  config: typeof PACKABLE = PACKABLE,
): Promise<LlamaForCausalLM> {
  const twin = LlamaForCausalLM.fromConfig(config, { seed });
  for (const [name, weight] of packed.packedWeights()) {
    const values = tf.tensor2d(await dequantizedValues(weight), [weight.outFeatures, weight.inFeatures]);
    twin.namedParameters().get(name)!.assign(values);
    values.dispose();
  }
  return twin;
}

describe.each(TEST_BACKENDS)("packed projection weights on %s", (backend) => {
  let work: string;
  beforeAll(async () => {
    await useBackend(backend);
    work = await mkdtemp(join(tmpdir(), "llama-packed-"));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it.each(FORMATS.flatMap((format) => [false, true].map((tied) => [format, tied] as const)))(
    "%s (tied: %s): logits, the loss gradient to the inputs, and greedy decoding match the dequantized float32 model",
    async (format, tied) => {
      const config = { ...PACKABLE, tie_word_embeddings: tied };
      const model = LlamaForCausalLM.fromConfig(config, { seed: 5, weights: format });
      // 14 projections, plus the embedding and an untied head for bf16 and int8 (QLoRA keeps them float32 under nf4).
      const vocabTensors = tied ? 1 : 2;
      expect(model.packedWeights().size).toBe(format === "nf4" ? 14 : 14 + vocabTensors);
      expect([...model.namedParameters().keys()].some((n) => n.endsWith("q_proj.weight"))).toBe(false);
      expect(model.namedParameters().has("model.embed_tokens.weight")).toBe(format === "nf4");
      const twin = await dequantizedTwin(model, 5, config);
      const a = model.forward(IDS).logits;
      const b = twin.forward(IDS).logits;
      expect(maxDiff(await a.data(), await b.data())).toBeLessThan(TOLERANCE);
      // The embedding lookup unpacks exactly the rows the dequantizer gives.
      const [ea, eb] = [model.embedTokens(IDS), twin.embedTokens(IDS)];
      expect(maxDiff(await ea.data(), await eb.data())).toBe(0);
      // The gradient reaches the inputs through every packed projection's dX kernel.
      const embeds = tf.variable(eb, true);
      const grad = (m: LlamaForCausalLM) =>
        tf.variableGrads(() => m.forward(null, { inputsEmbeds: embeds, labels: IDS }).loss!, [embeds]);
      const ga = grad(model);
      const gb = grad(twin);
      const [gradA, gradB] = [Object.values(ga.grads)[0], Object.values(gb.grads)[0]];
      expect(maxDiff(await gradA.data(), await gradB.data())).toBeLessThan(TOLERANCE);
      const prompt = IDS[0].slice(0, 4);
      const tokensA = await model.generate(prompt, { maxNewTokens: 6, doSample: false });
      const tokensB = await twin.generate(prompt, { maxNewTokens: 6, doSample: false });
      expect(tokensA).toEqual(tokensB);
      tf.dispose([a, b, ea, eb, embeds, ga.value, gb.value, ...Object.values(ga.grads), ...Object.values(gb.grads)]);
      model.dispose();
      twin.dispose();
    },
    120_000,
  );

  it("keeps tf.memory() flat over steps, and frees the packed tensors on dispose", async () => {
    const before = tf.memory().numTensors;
    const model = LlamaForCausalLM.fromConfig(PACKABLE, { seed: 2, weights: "nf4" });
    const step = async () => {
      const { loss, logits } = model.forward(IDS, { labels: IDS });
      await loss!.data();
      tf.dispose([loss!, logits]);
    };
    await step();
    const during = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(during);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("savePretrained writes the dequantized float32 weights; fromPretrained with weights packs as it reads", async () => {
    const packed = LlamaForCausalLM.fromConfig(PACKABLE, { seed: 9, weights: "int8" });
    const dir = join(work, "saved");
    await packed.savePretrained(dir);
    const reloaded = await LlamaForCausalLM.fromPretrained(dir);
    const twin = await dequantizedTwin(packed, 9);
    const [a, b] = [reloaded.forward(IDS).logits, twin.forward(IDS).logits];
    expect(maxDiff(await a.data(), await b.data())).toBe(0);
    // The float32 original, loaded with weights: "int8", packs the same values as fromConfig did.
    const original = LlamaForCausalLM.fromConfig(PACKABLE, { seed: 9 });
    await original.savePretrained(join(work, "original"));
    const loadedPacked = await LlamaForCausalLM.fromPretrained(join(work, "original"), { weights: "int8" });
    const [c, d] = [loadedPacked.forward(IDS).logits, packed.forward(IDS).logits];
    expect(maxDiff(await c.data(), await d.data())).toBe(0);
    tf.dispose([a, b, c, d]);
    for (const m of [packed, reloaded, twin, original, loadedPacked]) m.dispose();
  });

  it("rejects an unknown weights format; keeps float32 a projection whose rows are not whole blocks", () => {
    expect(() => LlamaForCausalLM.fromConfig(PACKABLE, { weights: "int4" as FrozenWeightFormat })).toThrow(
      /weights must be one of float32, bfloat16, int8, nf4, found "int4"/,
    );
    const odd = LlamaForCausalLM.fromConfig({ ...PACKABLE, intermediate_size: 96 }, { weights: "nf4" });
    expect(odd.packedWeights().has("model.layers.0.mlp.up_proj.weight")).toBe(true);
    expect(odd.packedWeights().has("model.layers.0.mlp.down_proj.weight")).toBe(false);
    expect(odd.namedParameters().get("model.layers.0.mlp.down_proj.weight")!.shape).toEqual([64, 96]);
    odd.dispose();
  });

  it("says before a forward pass when its logits would not fit one binding (Dawn would compute nothing)", () => {
    const config = parseLlamaConfig({ ...PACKABLE, vocab_size: 32000, intermediate_size: 5632 });
    const binding = maxBindingBytes();
    // One micro-batch of TinyLlama's 4 × 512: logits [2048, 32000] are 250 MiB.
    if (binding < 2048 * 32000 * 4) {
      expect(() => checkActivationsFit(config, 2048)).toThrow(ResourceLimitError);
      expect(() => checkActivationsFit(config, 2048)).toThrow(
        new RegExp(`logits \\[2048, 32000\\] of 250 MiB.*pass at most ${Math.floor(binding / 128000)} positions`),
      );
      const model = LlamaForCausalLM.fromConfig(
        { ...PACKABLE, vocab_size: 32000, hidden_size: 8, max_position_embeddings: 4096 },
        { seed: 1 },
      );
      const before = tf.memory().numTensors;
      const ids = [Array.from({ length: 2048 }, (_, i) => i % 32000)];
      expect(() => model.forward(ids)).toThrow(ResourceLimitError);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    } else expect(backend).not.toBe("webgpu"); // lavapipe's binding is 128 MiB: the check must run there
    expect(() => checkActivationsFit(config, Math.floor(binding / 128000))).not.toThrow();
  });

  it("says at once when the backend cannot hold the weights, and how to make them fit", () => {
    // TinyLlama-1.1B's shapes and LLaMA-7B's: nothing is allocated, only the config is read.
    const tiny = parseLlamaConfig({
      ...PACKABLE,
      vocab_size: 32000,
      hidden_size: 2048,
      intermediate_size: 5632,
      num_hidden_layers: 22,
      num_attention_heads: 32,
      num_key_value_heads: 4,
    });
    const bytes = estimateModelBytes(tiny).total;
    expect(bytes / 2 ** 30).toBeGreaterThan(4); // 1.1e9 float32 values
    expect(estimateModelBytes(tiny, { weights: "int8" }).total / bytes).toBeLessThan(0.35);
    if (backend === "wasm") {
      const started = Date.now();
      expect(() => LlamaForCausalLM.fromConfig(tiny)).toThrow(ResourceLimitError);
      expect(() => checkModelFits(tiny)).toThrow(
        /4\.\d\d GiB as float32.*at most 4\.00 GiB.*--weights bf16\|int8\|nf4/,
      );
      expect(Date.now() - started).toBeLessThan(2000);
      for (const weights of FORMATS) expect(() => checkModelFits(tiny, { weights })).not.toThrow();
    } else {
      expect(() => checkModelFits(tiny)).not.toThrow();
    }
    if (backend === "webgpu") {
      const b7 = parseLlamaConfig({
        ...PACKABLE,
        hidden_size: 4096,
        intermediate_size: 11008,
        num_attention_heads: 32,
        num_key_value_heads: 32,
      });
      const binding = maxBindingBytes();
      if (11008 * 4096 * 4 > binding) expect(() => checkModelFits(b7)).toThrow(/maxStorageBufferBindingSize/);
      expect(() => checkModelFits(b7, { weights: "nf4" })).not.toThrow();
    }
  });
});
