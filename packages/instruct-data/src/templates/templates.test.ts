import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { TrainingTokenizer } from "../tokenize/training-tokenizer.js";
import { getTemplate, parseTemplateFile } from "./get-template.js";
import { renderChatSegments, renderPrompt } from "./render-prompt.js";

const TEMPLATE_DIR = new URL("../../test-fixtures/alpaca-lora-templates/", import.meta.url);

describe("built-in templates", () => {
  it.each(["alpaca", "alpaca_legacy", "alpaca_short", "vigogne"])("equal alpaca-lora's %s.json", (name) => {
    const file = JSON.parse(readFileSync(new URL(`${name}.json`, TEMPLATE_DIR), "utf8")) as unknown;
    expect(getTemplate(name)).toEqual(parseTemplateFile(file, { name }));
    expect(getTemplate(fileURLToPath(new URL(`${name}.json`, TEMPLATE_DIR)))).toEqual(getTemplate(name));
  });

  it("renders with and without input, and the response is the output", () => {
    const t = getTemplate("alpaca");
    expect(renderPrompt(t, { instruction: "Add.", input: "2 and 3", output: "5" })).toEqual({
      prompt:
        "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nAdd.\n\n### Input:\n2 and 3\n\n### Response:\n",
      response: "5",
    });
    expect(
      renderPrompt(getTemplate("stanford_alpaca"), { instruction: "Hi.", input: "", output: "Hello" }).prompt,
    ).toBe(
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nHi.\n\n### Response:",
    );
    expect(renderPrompt(getTemplate("koalpaca"), { instruction: "김치는?", input: "", output: "음식" })).toEqual({
      prompt: "### 질문: 김치는?\n\n### 답변:",
      response: "음식",
    });
  });

  it("substitutes once, like str.format: placeholders inside the values stay literal", () => {
    const t = getTemplate("alpaca_short");
    expect(renderPrompt(t, { instruction: "Explain {input} in Python", input: 'f"{x}"', output: "" }).prompt).toBe(
      '### Instruction:\nExplain {input} in Python\n\n### Input:\nf"{x}"\n\n### Response:\n',
    );
  });

  it("loads a user template file and rejects a malformed one", () => {
    const dir = mkdtempSync(join(tmpdir(), "llamats-tpl-"));
    const good = join(dir, "mine.json");
    writeFileSync(
      good,
      JSON.stringify({
        description: "x",
        prompt_input: "Q: {instruction} [{input}] {{literal}}\nA:",
        prompt_no_input: "Q: {instruction}\nA:",
        response_split: "A:",
      }),
    );
    const t = getTemplate(good);
    expect(t.name).toBe("mine");
    expect(renderPrompt(t, { instruction: "a", input: "b", output: "c" }).prompt).toBe("Q: a [b] {literal}\nA:");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ prompt_input: "x" }));
    expect(() => getTemplate(bad)).toThrow(/bad\.json: "prompt_no_input" must be a string/);
    expect(() => getTemplate("nope")).toThrow(/Unknown template "nope"/);
  });
});

// A ChatML-like template, written by hand, enough to test where turns split.
const chatTokenizer: TrainingTokenizer = {
  encode: () => [],
  bosTokenId: 1,
  eosTokenId: 2,
  chatTemplate: "chatml",
  applyChatTemplate(messages, options) {
    const body = messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join("");
    return options?.addGenerationPrompt ? `${body}<|im_start|>assistant\n` : body;
  },
};

describe("chat rendering", () => {
  it("splits a conversation into untrained prompt parts and trained assistant turns", () => {
    const messages = [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "Bye" },
      { role: "assistant", content: "See you." },
    ];
    expect(renderChatSegments(messages, chatTokenizer)).toEqual([
      { text: "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", trained: false },
      { text: "Hello!<|im_end|>\n", trained: true },
      { text: "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n", trained: false },
      { text: "See you.<|im_end|>\n", trained: true },
    ]);
    const rendered = renderPrompt(
      getTemplate("chat"),
      { instruction: "Add.", input: "1 2", output: "3" },
      { tokenizer: chatTokenizer },
    );
    expect(rendered).toEqual({
      prompt: "<|im_start|>user\nAdd.\n\n1 2<|im_end|>\n<|im_start|>assistant\n",
      response: "3<|im_end|>\n",
    });
    expect(() => renderPrompt(getTemplate("chat"), { messages }, {})).toThrow(/needs a tokenizer with a chat_template/);
  });

  it("renders a one-exchange conversation with an instruction template", () => {
    expect(
      renderPrompt(getTemplate("alpaca_short"), {
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Yo" },
        ],
      }),
    ).toEqual({
      prompt: "### Instruction:\nHi\n\n### Response:\n",
      response: "Yo",
    });
  });
});
