import * as tf from "@tensorflow/tfjs-core";
import { packExamples } from "@llamats/instruct-data";
import { LlamaForCausalLM, type ForwardOptions } from "@llamats/llama-model";
import { TEST_BACKENDS, readScalar, useBackend } from "@llamats/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CONFIG = {
  model_type: "llama",
  vocab_size: 61,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  tie_word_embeddings: false,
  initializer_range: 0.2,
};

// Three examples (prompt labels -100) of different lengths: one packed row of 15 tokens, or three padded rows.
const EXAMPLES = [
  { input_ids: [1, 10, 11, 12, 2], labels: [-100, -100, 11, 12, 2] },
  { input_ids: [1, 20, 21, 22, 23, 24, 2], labels: [-100, 20, 21, 22, 23, 24, 2] },
  { input_ids: [1, 30, 2], labels: [-100, 30, 2] },
];

/** The summed loss of one forward (its logits freed). */
function lossSum(model: LlamaForCausalLM, ids: number[], options: ForwardOptions): Promise<number> {
  const { logits, loss } = model.forward([ids], { ...options, lossReduction: "sum" });
  logits.dispose();
  return readScalar(loss!);
}

/** The summed response loss of each packed example: the row's labels kept on that example only. */
function perExampleLosses(model: LlamaForCausalLM, packed: boolean): Promise<number[]> {
  if (!packed) {
    return Promise.all(EXAMPLES.map((e) => lossSum(model, e.input_ids, { labels: [e.labels] })));
  }
  const [row] = packExamples(EXAMPLES, { maxLength: 16, strategy: "sequential" });
  expect(row.exampleIndices).toEqual([0, 1, 2]);
  return Promise.all(
    EXAMPLES.map((_, k) => {
      const labels = row.labels.map((label, t) => (row.sequenceIds[t] === k ? label : -100));
      return lossSum(model, row.input_ids, {
        labels: [labels],
        sequenceIds: [row.sequenceIds],
        positionIds: [row.positionIds],
      });
    }),
  );
}

describe.each(TEST_BACKENDS)("packed rows reach the model (%s)", (backend) => {
  let model: LlamaForCausalLM;
  beforeAll(async () => {
    await useBackend(backend);
    model = LlamaForCausalLM.fromConfig(CONFIG, { seed: 3 });
  });
  afterAll(() => model.dispose());

  it("each packed example has the loss it has alone (block-diagonal causal mask, positions restarting at 0)", async () => {
    const alone = await perExampleLosses(model, false);
    const packed = await perExampleLosses(model, true);
    for (let k = 0; k < alone.length; k++) expect(Math.abs(packed[k] - alone[k]) / alone[k]).toBeLessThan(1e-5);
    // Without sequenceIds the later examples attend to the earlier ones: the losses differ, so the mask is doing it.
    const [row] = packExamples(EXAMPLES, { maxLength: 16, strategy: "sequential" });
    const labels = row.labels.map((label, t) => (row.sequenceIds[t] === 2 ? label : -100));
    const leaky = await lossSum(model, row.input_ids, { labels: [labels], positionIds: [row.positionIds] });
    expect(Math.abs(leaky - alone[2]) / alone[2]).toBeGreaterThan(1e-3);
  });

  it("a sequenceIds tensor gives the same logits as arrays, and a wrong shape is refused", async () => {
    const [row] = packExamples(EXAMPLES, { maxLength: 16, strategy: "sequential" });
    const ids = tf.tensor2d([row.sequenceIds], undefined, "int32");
    const fromArrays = model.forward([row.input_ids], { sequenceIds: [row.sequenceIds] }).logits;
    const fromTensor = model.forward([row.input_ids], { sequenceIds: ids }).logits;
    expect(await readScalar(tf.tidy(() => tf.max(tf.abs(tf.sub(fromArrays, fromTensor)))))).toBeLessThan(1e-5);
    expect(() => model.forward([row.input_ids], { sequenceIds: [[0, 0, 1]] })).toThrow(
      /sequenceIds must have the shape of input_ids \[1, 15\], found \[1, 3\]/,
    );
    tf.dispose([ids, fromArrays, fromTensor]);
  });
});
