// Greedy ids from llama.cpp on our f32 GGUF export must be identical to our own generate, token for token.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { exportGguf } from "@llamats/llama-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROMPTS } from "./fixtures.js";
import { llamaCppGreedy } from "./llama-cpp.js";
import { MODEL_CASES, oursGreedy } from "./models.js";

const NEW_TOKENS = 32;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llamats-interop-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(TEST_BACKENDS)("f32 GGUF greedy ids, llama.cpp vs llamats (%s)", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(MODEL_CASES.map((c) => [c.name, c] as const))("%s", async (name, modelCase) => {
    const { model, tokenizer } = await modelCase.load();
    try {
      const path = join(dir, `${backend}-${name.replace(/\W+/g, "-")}.gguf`);
      await exportGguf(model, { path, tokenizer, type: "f32", name });
      const prompts = PROMPTS.map((p) => tokenizer.encode(p));
      const eos = tokenizer.eosTokenId;
      const theirs = await llamaCppGreedy(path, prompts, NEW_TOKENS);
      const tensorsBefore = tf.memory().numTensors;
      for (let i = 0; i < prompts.length; i++) {
        const ours = await oursGreedy(model, prompts[i], NEW_TOKENS);
        const what = `prompt ${i}: ${JSON.stringify(PROMPTS[i])}`;
        // llama.cpp's evaluate loop ends at an end-of-generation token without yielding it: ours must reach EOS there.
        expect(ours.slice(0, theirs[i].length), what).toEqual(theirs[i]);
        if (theirs[i].length < NEW_TOKENS)
          expect(ours[theirs[i].length], `${what}: EOS where llama.cpp stopped`).toBe(eos);
      }
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    } finally {
      model.dispose();
    }
  });
});
