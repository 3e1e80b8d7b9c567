import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, registerGradients } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { promptInitTokenIds, PromptTuningModel } from "./prompt-tuning.js";
import { maxAbsDiff, readTinyInputs, TINY_DIR } from "./testing/fixtures.js";
import { TEST_BACKENDS, readScalar } from "@llamats/core/testing";

describe("promptInitTokenIds", () => {
  it("trims or repeats the text's ids as PEFT does", () => {
    expect(promptInitTokenIds([1, 2, 3], 2)).toEqual([1, 2]);
    expect(promptInitTokenIds([1, 2, 3], 7)).toEqual([1, 2, 3, 1, 2, 3, 1]);
  });
});

describe.each(TEST_BACKENDS)("PromptTuningModel on %s", { timeout: 30_000 }, (backend) => {
  let base: LlamaForCausalLM;
  let inputs: Awaited<ReturnType<typeof readTinyInputs>>;
  let tmp: string;
  beforeAll(async () => {
    await initBackend({ backend });
    await registerGradients();
    inputs = await readTinyInputs();
    base = await LlamaForCausalLM.fromPretrained(TINY_DIR);
    tmp = await mkdtemp(join(tmpdir(), "peft-prompt-"));
  }, 120_000);
  afterAll(async () => {
    base?.dispose();
    await rm(tmp, { recursive: true, force: true });
  });

  it("TEXT init with the first 5 tokens, then the rest of the row, reproduces transformers' logits for the whole row", async () => {
    const row = inputs.inputIds[0];
    const tokenizer = { encode: () => row.slice(0, 5) };
    const peft = PromptTuningModel.create(
      base,
      { num_virtual_tokens: 5, prompt_tuning_init: "TEXT", prompt_tuning_init_text: "five tokens" },
      { tokenizer },
    );
    const { logits } = peft.forward([row.slice(5)]);
    expect(logits.shape).toEqual([1, 24, 2000]);
    const got = (await logits.data()) as Float32Array;
    logits.dispose();
    // Row 0 has no padding: every position is compared with llama1-tiny/expected.safetensors.
    expect(maxAbsDiff(got, inputs.baseLogits.subarray(0, 24 * 2000))).toBeLessThan(1e-4);
    peft.dispose();
  });

  it(
    "trains only the virtual tokens, with -100 labels over them, and saves/loads PEFT's format",
    { timeout: 90_000 },
    async () => {
      const peft = PromptTuningModel.create(base, { num_virtual_tokens: 4 }, { seed: 3 });
      expect(peft.trainableVariables()).toHaveLength(1);
      expect(base.trainableVariables()).toHaveLength(0);
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => {
        // One row keeps the plain-JS cpu backend quick.
        const { logits, loss } = peft.forward([inputs.inputIds[0]], { labels: [inputs.labels[0]] });
        logits.dispose();
        return loss!;
      }, peft.trainableVariables());
      const grad = (await grads[peft.promptEmbeddings.name].data()) as Float32Array;
      expect(grad.every(Number.isFinite)).toBe(true);
      expect(Math.max(...Array.from(grad, Math.abs))).toBeGreaterThan(0);
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);

      const dir = join(tmp, backend);
      await peft.savePretrained(dir, { baseModelNameOrPath: "llama1-tiny" });
      const config = JSON.parse(await readFile(join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
      expect(config).toMatchObject({
        peft_type: "PROMPT_TUNING",
        num_virtual_tokens: 4,
        token_dim: 64,
        num_transformer_submodules: 1,
        num_attention_heads: 4,
        num_layers: 2,
        task_type: "CAUSAL_LM",
      });
      const loaded = await PromptTuningModel.fromPretrained(base, dir);
      expect(maxAbsDiff(await loaded.promptEmbeddings.data(), await peft.promptEmbeddings.data())).toBe(0);
      loaded.dispose();
      peft.dispose();
    },
  );

  it("generate prepends the virtual tokens at prefill: TEXT init with the first 5 tokens continues the whole row as the base model does", async () => {
    const row = inputs.inputIds[0];
    const tokenizer = { encode: () => row.slice(0, 5) };
    const peft = PromptTuningModel.create(
      base,
      { num_virtual_tokens: 5, prompt_tuning_init: "TEXT", prompt_tuning_init_text: "five tokens" },
      { tokenizer },
    );
    const before = tf.memory().numTensors;
    const [whole] = await base.generate(row.slice(0, 10), { maxNewTokens: 8, eosTokenId: [] });
    const [out] = await peft.generate(row.slice(5, 10), { maxNewTokens: 8, eosTokenId: [] });
    // The returned ids exclude the virtual tokens, as PEFT's do.
    expect(out).toEqual(whole.slice(5));
    expect(tf.memory().numTensors).toBe(before);
    peft.dispose();
  });

  it("generate equals greedy recompute with peft.forward, for a ragged batch too", async () => {
    const peft = PromptTuningModel.create(base, { num_virtual_tokens: 3 }, { seed: 11 });
    const prompts = [inputs.inputIds[0].slice(0, 6), inputs.inputIds[0].slice(2, 5)];
    const before = tf.memory().numTensors;
    const generated = await peft.generate(prompts, { maxNewTokens: 6, eosTokenId: [] });
    expect(tf.memory().numTensors).toBe(before);
    for (const [b, prompt] of prompts.entries()) {
      const ids = [...prompt];
      for (let step = 0; step < 6; step++) {
        const next = await readScalar(
          tf.tidy(() => {
            const { logits } = peft.forward([ids]);
            return tf.argMax(tf.squeeze(tf.slice(logits, [0, logits.shape[1] - 1, 0], [1, 1, logits.shape[2]])), -1);
          }),
        );
        ids.push(next);
      }
      expect(generated[b]).toEqual(ids);
    }
    const streamed: number[] = [];
    for await (const { tokenId } of peft.generateStream(prompts[1], { maxNewTokens: 6, eosTokenId: [] }))
      streamed.push(tokenId);
    expect(streamed).toEqual(generated[1].slice(prompts[1].length));
    expect(tf.memory().numTensors).toBe(before);
    peft.dispose();
  });
});
