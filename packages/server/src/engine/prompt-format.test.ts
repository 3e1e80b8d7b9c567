import { describe, expect, it } from "vitest";
import { renderChatPrompt } from "./prompt-format.js";

describe("renderChatPrompt", () => {
  it("renders one instruction in the alpaca-lora template", () => {
    const { text, impliedStops } = renderChatPrompt({
      format: "alpaca",
      messages: [{ role: "user", content: "Name a color." }],
    });
    expect(text).toBe(
      "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nName a color.\n\n### Response:\n",
    );
    expect(impliedStops).toEqual(["\n### "]);
  });

  it("puts the system message and earlier turns into the Input section", () => {
    const { text } = renderChatPrompt({
      format: "alpaca",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello!" },
        { role: "user", content: "Name a color." },
      ],
    });
    expect(text).toContain("paired with an input");
    expect(text).toContain(
      "### Instruction:\nName a color.\n\n### Input:\nBe brief.\nUser: Hi\nAssistant: Hello!\n\n### Response:\n",
    );
  });

  it("renders a plain transcript that ends where the assistant speaks", () => {
    const { text, impliedStops } = renderChatPrompt({ format: "plain", messages: [{ role: "user", content: "Hi" }] });
    expect(text).toBe("User: Hi\nAssistant:");
    expect(impliedStops).toContain("\nUser:");
  });

  it("uses the tokenizer template for chat-template", () => {
    const { text } = renderChatPrompt({
      format: "chat-template",
      messages: [{ role: "user", content: "Hi" }],
      applyChatTemplate: (m) => `<${m.length}>`,
    });
    expect(text).toBe("<1>");
    expect(() => renderChatPrompt({ format: "chat-template", messages: [] })).toThrow(TypeError);
  });
});
