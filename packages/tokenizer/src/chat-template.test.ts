import { describe, expect, it } from "vitest";
import { HfTokenizer } from "./hf/hf-tokenizer.js";
import { parseTokenizerConfig } from "./tokenizer-config.js";
import { readFixtureJson } from "./testing/fixtures.js";

// The Llama-2 chat template, as published in meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json.
const LLAMA2_TEMPLATE =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

const json = readFixtureJson("tokenizer-sp-hf", "tokenizer.json");
const rawConfig = readFixtureJson<Record<string, unknown>>("tokenizer-sp-hf", "tokenizer_config.json");

describe("applyChatTemplate", () => {
  it("renders the Llama-2 template with the special tokens of tokenizer_config.json", () => {
    const tokenizer = HfTokenizer.fromTokenizerJson(json, {
      config: parseTokenizerConfig({ ...rawConfig, chat_template: LLAMA2_TEMPLATE }),
    });
    const text = tokenizer.applyChatTemplate([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "Name a llama." },
    ]);
    expect(text).toBe(
      "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Name a llama. [/INST]",
    );
  });

  it("passes add_generation_prompt through", () => {
    const template =
      "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
    const tokenizer = HfTokenizer.fromTokenizerJson(json, {
      config: parseTokenizerConfig({ ...rawConfig, chat_template: template }),
    });
    const messages = [{ role: "user", content: "x" }];
    expect(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe("<|user|>x<|assistant|>");
    expect(tokenizer.applyChatTemplate(messages)).toBe("<|user|>x");
  });

  it("says clearly when the tokenizer has no chat template", () => {
    const tokenizer = HfTokenizer.fromTokenizerJson(json, {
      config: parseTokenizerConfig(rawConfig),
      source: "base-model",
    });
    expect(() => tokenizer.applyChatTemplate([{ role: "user", content: "x" }])).toThrowError(
      /base-model has no chat_template/,
    );
  });
});
