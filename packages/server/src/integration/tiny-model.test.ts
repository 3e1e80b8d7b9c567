// End to end on the real tiny LLaMA (test-fixtures/llama1-tiny) and its LoRA adapter, on every test backend.
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { PeftModel } from "@llamats/peft-lora";
import { loadTokenizer } from "@llamats/tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AdapterSwitcher, EngineTokenizer } from "../engine/llama-engine-types.js";
import { createLlamaEngine } from "../engine/llama-engine.js";
import { createServer, type LlamatsServer } from "../http/create-server.js";
import { checkChatStream } from "../load-test/check-chat-stream.js";
import { readSse } from "../load-test/read-sse.js";
import { runLoadTest } from "../load-test/run-load-test.js";
import { postJson, waitFor } from "../testing/listen-fake-server.js";

const MODEL_DIR = fileURLToPath(new URL("../../test-fixtures/llama1-tiny", import.meta.url));
const ADAPTER_DIR = fileURLToPath(new URL("../../test-fixtures/llama1-tiny-lora", import.meta.url));

describe.each(TEST_BACKENDS)(
  "server on the tiny LLaMA with a LoRA adapter (%s backend)",
  { timeout: 60_000 },
  (backend) => {
    let model: LlamaForCausalLM;
    let tokenizer: EngineTokenizer;
    let peft: AdapterSwitcher;
    let server: LlamatsServer;
    let baseUrl: string;

    beforeAll(async () => {
      await useBackend(backend);
      model = await LlamaForCausalLM.fromPretrained(MODEL_DIR, { offline: true });
      tokenizer = await loadTokenizer(MODEL_DIR, { offline: true });
      peft = await PeftModel.fromPretrained(model, ADAPTER_DIR, {
        adapterName: "alpaca",
      });
      const engine = createLlamaEngine({
        model,
        tokenizer,
        modelId: "llama1-tiny",
        adapters: { switcher: peft, entries: [{ name: "alpaca" }] },
      });
      server = await createServer({ engine, maxConcurrency: 4, queueSize: 16 });
      baseUrl = await server.listen({ host: "127.0.0.1", port: 0 });
    });
    afterAll(async () => {
      await server?.close({ graceMs: 1000 });
      model?.dispose();
    });

    const greedyCompletion = async (modelId: string, prompt: string, maxTokens = 12) => {
      const response = await postJson(baseUrl, "/v1/completions", {
        model: modelId,
        prompt,
        max_tokens: maxTokens,
        temperature: 0,
      });
      expect(response.status).toBe(200);
      return (await response.json()) as {
        choices: Array<{ text: string; finish_reason: string }>;
        usage: { prompt_tokens: number };
      };
    };

    it("lists the base and the adapter, and gives the same greedy text as model.generate", async () => {
      const models = (await (await fetch(`${baseUrl}/v1/models`)).json()) as {
        data: Array<{ id: string; context_length: number }>;
      };
      expect(models.data.map((card) => [card.id, card.context_length])).toEqual([
        ["llama1-tiny", 512],
        ["alpaca", 512],
      ]);
      const prompt = "The alpaca is";
      const ids = tokenizer.encode(prompt, { addSpecialTokens: true });
      peft.disableAdapters();
      const [row] = await model.generate(ids, { maxNewTokens: 12 });
      const expected = tokenizer.decode(row.slice(ids.length), { skipSpecialTokens: true });
      const body = await greedyCompletion("llama1-tiny", prompt);
      expect(body.usage.prompt_tokens).toBe(ids.length);
      expect(body.choices[0].text).toBe(expected);
    });

    it("keeps base and adapter apart when their generations interleave", async () => {
      const prompts = ["Give three tips for staying healthy.", "What is the capital of France?"];
      const sequential: string[] = [];
      for (const prompt of prompts) {
        for (const id of ["llama1-tiny", "alpaca"])
          sequential.push((await greedyCompletion(id, prompt, 16)).choices[0].text);
      }
      expect(sequential[0]).not.toBe(sequential[1]);
      const together = await Promise.all(
        prompts.flatMap((prompt) =>
          ["llama1-tiny", "alpaca"].map(async (id) => (await greedyCompletion(id, prompt, 16)).choices[0].text),
        ),
      );
      expect(together).toEqual(sequential);
    });

    it("streams a chat reply in the Alpaca template for the adapter", async () => {
      const response = await postJson(baseUrl, "/v1/chat/completions", {
        model: "alpaca",
        messages: [{ role: "user", content: "Name a color." }],
        max_tokens: 10,
        temperature: 0.8,
        seed: 3,
        stream: true,
      });
      const sse = await readSse({ body: response.body! });
      expect(sse.problem).toBeNull();
      expect(checkChatStream(sse.events).problem).toBeNull();
    });

    it("answers a prompt longer than the 512-token context with 400", async () => {
      const response = await postJson(baseUrl, "/v1/completions", {
        model: "llama1-tiny",
        prompt: "alpaca ".repeat(600),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("context_length_exceeded");
    });

    it("leaves no tensors behind after served and cancelled generations", async () => {
      await greedyCompletion("alpaca", "warm up", 4);
      const before = tf.memory().numTensors;
      await greedyCompletion("llama1-tiny", "Hello", 8);
      const controller = new AbortController();
      const response = await postJson(
        baseUrl,
        "/v1/chat/completions",
        { model: "alpaca", messages: [{ role: "user", content: "Hi" }], max_tokens: 400, stream: true },
        { signal: controller.signal },
      );
      const reader = response.body!.getReader();
      await reader.read();
      await reader.read();
      controller.abort();
      await waitFor(() => server.stats().active === 0, 20_000);
      expect(tf.memory().numTensors).toBe(before);
    });

    it("serves 50 concurrent streaming clients: each served or 429, none malformed", async () => {
      const report = await runLoadTest({ baseUrl, model: "alpaca", clients: 50, maxTokens: 6, timeoutMs: 60_000 });
      expect(report.problems).toEqual([]);
      expect(report.malformed + report.failed).toBe(0);
      expect(report.served + report.rejected).toBe(50);
      expect(report.served).toBeGreaterThanOrEqual(20);
      expect(report.healthyAfter).toBe(true);
    }, 90_000);
  },
);
