import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GenerationTokenizer } from "./generation-tokenizer.js";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { applyTopK, applyTopP, applyRepetitionPenalty } from "./logits-processors.js";
import { TEST_BACKENDS } from "@llamats/core/testing";
import { LLAMA1_SMALL } from "./testing/tiny-configs.js";

/** Token i decodes to the letter 'a' + (i % 26), enough to exercise streaming text and stop strings. */
const letters: GenerationTokenizer = {
  decode: (ids) => ids.map((i) => String.fromCharCode(97 + (i % 26))).join(""),
  createStreamDecoder: () => ({ push: (id: number) => String.fromCharCode(97 + (id % 26)), flush: () => "" }),
};

describe("logits processors (HF semantics)", () => {
  it("top-k keeps the k best (and ties with the k-th)", () => {
    const l = Float32Array.from([1, 5, 3, 5, 2]);
    applyTopK(l, 2);
    expect(Array.from(l)).toEqual([-Infinity, 5, -Infinity, 5, -Infinity]);
  });
  it("top-p keeps the smallest set reaching p", () => {
    const l = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
    applyTopP(l, 0.75);
    expect(Array.from(l).map((v) => v !== -Infinity)).toEqual([true, true, false, false]);
    const one = Float32Array.from([0, 10]);
    applyTopP(one, 0.01);
    expect(Array.from(one).map((v) => v !== -Infinity)).toEqual([false, true]);
  });
  it("repetition penalty divides positive and multiplies negative scores of seen ids", () => {
    const l = Float32Array.from([2, -2, 4]);
    applyRepetitionPenalty(l, [0, 1, 1], 2);
    expect(Array.from(l)).toEqual([1, -4, 4]);
  });
});

describe.each(TEST_BACKENDS)("generate on %s", (backend) => {
  let model: LlamaForCausalLM;
  beforeAll(async () => {
    await initBackend({ backend });
    // Wide initial weights: well-separated logits, so greedy choices do not hinge on float rounding (GPU matmuls round differently by shape).
    model = LlamaForCausalLM.fromConfig({ ...LLAMA1_SMALL, initializer_range: 0.5 }, { seed: 21 });
  });
  afterAll(() => model?.dispose());

  it("leaves tf.memory().numTensors unchanged", async () => {
    const before = tf.memory().numTensors;
    await model.generate(
      [
        [1, 5, 6],
        [1, 9, 10],
      ],
      { maxNewTokens: 6, doSample: true, topK: 10, topP: 0.9, temperature: 0.8, repetitionPenalty: 1.2, seed: 1 },
    );
    await model.generate([1, 5, 6], { maxNewTokens: 6 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("an id outside the vocabulary is a ValidationError naming the prompt and position", async () => {
    const vocab = model.config.vocabSize;
    await expect(
      model.generate(
        [
          [1, 5],
          [1, vocab],
        ],
        { maxNewTokens: 2 },
      ),
    ).rejects.toThrow(new RegExp(`prompt 1, token 1 is ${vocab}, outside the model's vocabulary \\[0, ${vocab}\\)`));
    await expect(model.generate([1, -1], { maxNewTokens: 2 })).rejects.toMatchObject({ name: "ValidationError" });
  });

  it("a left-padded batch gives each row what it gets alone", async () => {
    const prompts = [
      [1, 5, 6, 7, 8],
      [1, 40],
      [1, 20, 21],
    ];
    const batched = await model.generate(prompts, { maxNewTokens: 7, eosTokenId: [] });
    for (const [b, p] of prompts.entries()) {
      expect(batched[b]).toEqual((await model.generate(p, { maxNewTokens: 7, eosTokenId: [] }))[0]);
    }
  });

  it("seeded sampling is reproducible; different seeds differ", async () => {
    const options = { maxNewTokens: 12, doSample: true, temperature: 1.5, eosTokenId: [] as number[] };
    const a = await model.generate([1, 3], { ...options, seed: 7 });
    const b = await model.generate([1, 3], { ...options, seed: 7 });
    const c = await model.generate([1, 3], { ...options, seed: 8 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("stops at an EOS id (kept) and pads finished rows like HF", async () => {
    const free = (await model.generate([1, 3], { maxNewTokens: 8, eosTokenId: [] }))[0];
    const eos = free[4];
    const end = free.indexOf(eos) + 1;
    const out = await model.generate(
      [
        [1, 3],
        [1, 50],
      ],
      { maxNewTokens: 8, eosTokenId: eos, padTokenId: 0 },
    );
    expect(out[0].slice(0, end)).toEqual(free.slice(0, end));
    // A finished row is padded while the other one runs on.
    expect(out[0].slice(end)).toEqual(new Array(out[1].length - end).fill(0));
  });

  it("stops on a stop string and streams text through the tokenizer", async () => {
    const free = (await model.generate([1, 3], { maxNewTokens: 8, eosTokenId: [] }))[0];
    const text = letters.decode(free.slice(2));
    const stop = text.slice(3, 5);
    const streamed: string[] = [];
    const out = await model.generate([1, 3], {
      maxNewTokens: 8,
      eosTokenId: [],
      tokenizer: letters,
      stopStrings: [stop],
      onToken: (e) => streamed.push(e.text),
    });
    const produced = streamed.join("");
    expect(produced.endsWith(stop) || produced.includes(stop)).toBe(true);
    expect(out[0].length).toBeLessThan(free.length);
    expect(out[0]).toEqual(free.slice(0, out[0].length));
  });

  it("generateStream yields the tokens generate returns, and an abort stops it", async () => {
    const expected = (await model.generate([1, 8], { maxNewTokens: 6, eosTokenId: [] }))[0].slice(2);
    const got: number[] = [];
    for await (const t of model.generateStream([1, 8], { maxNewTokens: 6, eosTokenId: [], tokenizer: letters }))
      got.push(t.tokenId);
    expect(got).toEqual(expected);
    const controller = new AbortController();
    const early: number[] = [];
    for await (const t of model.generateStream([1, 8], {
      maxNewTokens: 50,
      eosTokenId: [],
      signal: controller.signal,
    })) {
      early.push(t.tokenId);
      if (early.length === 2) controller.abort();
    }
    expect(early.length).toBe(2);
  });
});
