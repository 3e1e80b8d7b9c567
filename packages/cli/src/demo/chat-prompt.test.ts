import { describe, expect, it } from "vitest";
import { getTemplate, renderTextPrompt } from "@llamats/instruct-data";
import { promptText, splitInstructionInput } from "../commands/chat.js";

// `llamats chat <base> --adapter <demo out>` must prompt exactly as the demo trained (alpaca-lora's `alpaca` template).
describe("chat prompt for the demo adapter", () => {
  const noChatTemplate = {};

  it('renders "instruction Input: input" as the demo renders a held-out item', () => {
    const expected = renderTextPrompt(getTemplate("alpaca"), "Is this number even or odd?", "4817");
    expect(promptText(noChatTemplate, [{ role: "user", content: "Is this number even or odd? Input: 4817" }])).toBe(
      expected,
    );
  });

  it("uses the no-input form without a marker, and only the last instruction (alpaca has no history)", () => {
    const turns = [
      { role: "user" as const, content: "Say hi." },
      { role: "assistant" as const, content: "Hi." },
      { role: "user" as const, content: "Name a color." },
    ];
    expect(promptText(noChatTemplate, turns)).toBe(renderTextPrompt(getTemplate("alpaca"), "Name a color."));
    expect(splitInstructionInput("Write the first word of this list. Input: care, lot, thing")).toEqual({
      instruction: "Write the first word of this list.",
      input: "care, lot, thing",
    });
  });
});
