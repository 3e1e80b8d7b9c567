import * as tf from "@tensorflow/tfjs-core";
import { initBackend, registerGradients, ValidationError } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { TINY_DIR, readTinyExpected, type TinyExpected } from "./testing/fixtures.js";
import { TEST_BACKENDS, readScalar } from "@llamats/core/testing";

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  return await readScalar(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b)))));
}

describe.each(TEST_BACKENDS)("inputsEmbeds on %s (llama1-tiny)", (backend) => {
  let model: LlamaForCausalLM;
  let expected: TinyExpected;

  beforeAll(async () => {
    await initBackend({ backend });
    await registerGradients();
    expected = await readTinyExpected();
    model = await LlamaForCausalLM.fromPretrained(TINY_DIR);
  });
  afterAll(() => model?.dispose());

  it("forward(null, { inputsEmbeds: embedTokens(ids) }) equals forward(ids): logits and loss", async () => {
    const before = tf.memory().numTensors;
    const options = { attentionMask: expected.attentionMask, labels: expected.labels };
    const fromIds = model.forward(expected.inputIds, options);
    const embeds = model.embedTokens(expected.inputIds);
    expect(embeds.shape).toEqual([2, 24, 64]);
    const fromEmbeds = model.forward(null, { ...options, inputsEmbeds: embeds });
    expect(await maxAbsDiff(fromEmbeds.logits, fromIds.logits)).toBe(0);
    expect(await maxAbsDiff(fromEmbeds.loss!, fromIds.loss!)).toBe(0);
    tf.dispose([fromIds.logits, fromIds.loss!, fromEmbeds.logits, fromEmbeds.loss!, embeds]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("needs exactly one of inputIds and inputsEmbeds", () => {
    const embeds = model.embedTokens([[1, 2]]);
    expect(() => model.forward([[1, 2]], { inputsEmbeds: embeds })).toThrow(ValidationError);
    expect(() => model.forward(null)).toThrow(ValidationError);
    embeds.dispose();
  });

  it("gradients reach the embeddings (prompt tuning trains them), also through gradient checkpointing", async () => {
    const ids = [expected.inputIds[0]];
    const labels = [expected.labels[0]];
    const embeds = model.embedTokens(ids);
    const grad = (checkpoint: boolean): tf.Tensor =>
      tf.grad((x: tf.Tensor) => {
        const { logits, loss } = model.forward(null, {
          inputsEmbeds: x as tf.Tensor3D,
          labels,
          gradientCheckpointing: checkpoint,
        });
        logits.dispose();
        return loss!;
      })(embeds);
    const plain = grad(false);
    const checkpointed = grad(true);
    expect((await tf.max(tf.abs(plain)).data())[0]).toBeGreaterThan(0);
    expect(await maxAbsDiff(checkpointed, plain)).toBeLessThan(1e-6);
    tf.dispose([plain, checkpointed, embeds]);
  });

  it("generate prefills from inputsEmbeds: same ids as from the prompt ids (transformers greedy ids)", async () => {
    const before = tf.memory().numTensors;
    const prompt = expected.greedyIds.slice(0, 8);
    const embeds = model.embedTokens([prompt]);
    const [out] = await model.generate(prompt, { maxNewTokens: 16, inputsEmbeds: embeds });
    expect(out).toEqual(expected.greedyIds);
    // With no ids at all only the new tokens come back, as in transformers.
    const [onlyNew] = await model.generate([[]], { maxNewTokens: 16, inputsEmbeds: embeds });
    expect(onlyNew).toEqual(expected.greedyIds.slice(8));
    embeds.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a prefix in inputsEmbeds is attended but not returned; left-padded rows too", async () => {
    const before = tf.memory().numTensors;
    const prompt = expected.greedyIds.slice(0, 8);
    const [prefix, rest] = [prompt.slice(0, 3), prompt.slice(3)];
    const plain = model.embedTokens([prompt]);
    const [out] = await model.generate(rest, { maxNewTokens: 16, inputsEmbeds: plain, eosTokenId: [] });
    expect(out).toEqual([...rest, ...expected.greedyIds.slice(8)]);
    // Pads after the prefix, as PEFT lays out virtual tokens before a left-padded prompt.
    const padded = model.embedTokens([
      [...prefix, 0, 0, ...rest],
      [...prefix, 0, 0, ...rest],
    ]);
    const attentionMask = [
      [0, 0, 1, 1, 1, 1, 1],
      [0, 0, 1, 1, 1, 1, 1],
    ];
    const rows = await model.generate(
      [
        [0, 0, ...rest],
        [0, 0, ...rest],
      ],
      { maxNewTokens: 16, inputsEmbeds: padded, attentionMask, eosTokenId: [] },
    );
    expect(rows).toEqual([
      [0, 0, ...out],
      [0, 0, ...out],
    ]);
    tf.dispose([plain, padded]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
