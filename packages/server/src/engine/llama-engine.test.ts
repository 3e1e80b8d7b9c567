import { describe, expect, it } from "vitest";
import type { AdapterSwitcher, EngineModel, EngineStreamOptions, EngineTokenizer } from "./llama-engine-types.js";
import { createLlamaEngine } from "./llama-engine.js";

const EOS = 2;

/** A tokenizer over single characters: id = char code + 10; BOS 1, EOS 2. */
function charTokenizer(chatTemplate?: string): EngineTokenizer {
  return {
    encode: (text, options) => [
      ...(options?.addSpecialTokens === false ? [] : [1]),
      ...Array.from(text, (c) => c.charCodeAt(0) + 10),
    ],
    decode: (ids) =>
      ids
        .filter((id) => id > 2)
        .map((id) => String.fromCharCode(id - 10))
        .join(""),
    createStreamDecoder: () => ({
      push: (id: number) => (id > 2 ? String.fromCharCode(id - 10) : ""),
      flush: () => "",
    }),
    eosTokenId: EOS,
    chatTemplate,
    applyChatTemplate: (messages, options) =>
      `<s>${messages.map((m) => `[${m.role}]${m.content}`).join("")}${options?.addGenerationPrompt ? "[assistant]" : ""}`,
  };
}

/** Records which adapter was active at every step; emits `reply` then EOS. Counts open KV caches. */
function scriptedModel(switcher: RecordingSwitcher, reply: (prompt: readonly number[]) => string) {
  const state = { openCaches: 0, steps: [] as Array<{ prompt: number; adapter: string | null }> };
  const model: EngineModel = {
    config: { maxPositionEmbeddings: 64, eosTokenId: EOS },
    async *generateStream(inputIds: readonly number[], options: EngineStreamOptions) {
      state.openCaches += 1;
      try {
        const ids = [...Array.from(reply(inputIds), (c) => c.charCodeAt(0) + 10), EOS];
        for (let step = 0; step < Math.min(ids.length, options.maxNewTokens); step += 1) {
          await new Promise((resolve) => setImmediate(resolve));
          state.steps.push({ prompt: inputIds.length, adapter: switcher.active });
          const tokenId = ids[step];
          yield { tokenId, text: options.tokenizer!.createStreamDecoder().push(tokenId) };
        }
      } finally {
        state.openCaches -= 1;
      }
    },
  };
  return { model, state };
}

class RecordingSwitcher implements AdapterSwitcher {
  active: string | null = "first-loaded";
  private selected = "first-loaded";
  setAdapter(name: string): void {
    this.selected = name;
    if (this.active !== null) this.active = name;
  }
  enableAdapters(): void {
    this.active = this.selected;
  }
  disableAdapters(): void {
    this.active = null;
  }
}

const run = (
  engine: ReturnType<typeof createLlamaEngine>,
  model: string,
  prompt: string,
  signal = new AbortController().signal,
) => {
  let text = "";
  const prepared = engine.preparePrompt({ model, prompt });
  return engine
    .generate({
      prompt: prepared,
      maxTokens: 50,
      temperature: 0,
      topP: 1,
      signal,
      onText: (piece) => void (text += piece),
    })
    .then((result) => ({ ...result, text }));
};

describe("createLlamaEngine", () => {
  it("serves the base model and each adapter as model ids, with their prompt formats", () => {
    const switcher = new RecordingSwitcher();
    const { model } = scriptedModel(switcher, () => "ok");
    const engine = createLlamaEngine({
      model,
      tokenizer: charTokenizer(),
      modelId: "llama1-tiny",
      adapters: { switcher, entries: [{ name: "alpaca" }, { name: "plain-one", promptFormat: "plain" }] },
    });
    expect(engine.listModels().map((card) => [card.id, card.kind, card.promptFormat, card.contextLength])).toEqual([
      ["llama1-tiny", "base", "plain", 64],
      ["alpaca", "adapter", "alpaca", 64],
      ["plain-one", "adapter", "plain", 64],
    ]);
    const alpaca = engine.preparePrompt({ model: "alpaca", messages: [{ role: "user", content: "Hi" }] });
    expect(alpaca.text).toContain("### Instruction:\nHi\n\n### Response:\n");
    expect(alpaca.tokenIds[0]).toBe(1);
    expect(() => engine.preparePrompt({ model: "nope", prompt: "x" })).toThrow(/does not exist/);
  });

  it("renders chat with the tokenizer template without a second BOS", () => {
    const switcher = new RecordingSwitcher();
    const { model } = scriptedModel(switcher, () => "ok");
    const engine = createLlamaEngine({ model, tokenizer: charTokenizer("{{ messages }}"), modelId: "chat" });
    const prepared = engine.preparePrompt({ model: "chat", messages: [{ role: "user", content: "Hi" }] });
    expect(prepared.text).toBe("<s>[user]Hi[assistant]");
    expect(prepared.tokenIds[0]).not.toBe(1);
  });

  it("rejects adapter names that are not plain ids", () => {
    const switcher = new RecordingSwitcher();
    const { model } = scriptedModel(switcher, () => "ok");
    for (const name of ["../etc", "", " spaced", "a".repeat(200)]) {
      expect(() =>
        createLlamaEngine({
          model,
          tokenizer: charTokenizer(),
          modelId: "base",
          adapters: { switcher, entries: [{ name }] },
        }),
      ).toThrow(/cannot be a model id/);
    }
  });

  it("interleaves generations for different adapters, switching the adapter before every step", async () => {
    const switcher = new RecordingSwitcher();
    const { model, state } = scriptedModel(
      switcher,
      (prompt) => ({ 2: "aaaaaa", 3: "bbbbbbbbb", 4: "cccc" })[prompt.length] ?? "",
    );
    const engine = createLlamaEngine({
      model,
      tokenizer: charTokenizer(),
      modelId: "base",
      adapters: { switcher, entries: [{ name: "one" }, { name: "two" }] },
    });
    const [base, one, two] = await Promise.all([
      run(engine, "base", "x"),
      run(engine, "one", "xy"),
      run(engine, "two", "xyz"),
    ]);
    // BOS + the prompt's characters: 'x' is 2 tokens, 'xy' 3, 'xyz' 4; each reply ends with EOS.
    expect(base).toEqual({ finishReason: "stop", completionTokens: 7, text: "aaaaaa" });
    expect(one).toEqual({ finishReason: "stop", completionTokens: 10, text: "bbbbbbbbb" });
    expect(two).toEqual({ finishReason: "stop", completionTokens: 5, text: "cccc" });
    const expected: Record<number, string | null> = { 2: null, 3: "one", 4: "two" };
    expect(state.steps.every((step) => step.adapter === expected[step.prompt])).toBe(true);
    // Round-robin: the three generations' steps alternate rather than run one after another.
    expect(state.steps.slice(0, 6).map((step) => step.prompt)).toEqual([2, 3, 4, 2, 3, 4]);
    expect(state.openCaches).toBe(0);
  });

  it("reports length at maxTokens and frees the model loop when cancelled", async () => {
    const switcher = new RecordingSwitcher();
    const { model, state } = scriptedModel(switcher, () => "z".repeat(40));
    const engine = createLlamaEngine({ model, tokenizer: charTokenizer(), modelId: "base" });
    const prepared = engine.preparePrompt({ model: "base", prompt: "q" });
    const limited = await engine.generate({
      prompt: prepared,
      maxTokens: 5,
      temperature: 0.7,
      topP: 0.9,
      seed: 1,
      signal: new AbortController().signal,
      onText: () => {},
    });
    expect(limited).toEqual({ finishReason: "length", completionTokens: 5 });
    const controller = new AbortController();
    let pieces = 0;
    const cancelled = await engine.generate({
      prompt: prepared,
      maxTokens: 40,
      temperature: 0,
      topP: 1,
      signal: controller.signal,
      onText: () => {
        pieces += 1;
        if (pieces === 3) controller.abort();
      },
    });
    expect(cancelled).toEqual({ finishReason: "cancelled", completionTokens: 3 });
    expect(state.openCaches).toBe(0);
  });
});
