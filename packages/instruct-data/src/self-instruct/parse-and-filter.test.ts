import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ALPACA_SELF_INSTRUCT_PROMPT } from "./alpaca-prompt.js";
import { encodeSelfInstructPrompt } from "./encode-prompt.js";
import { instructionRejectionReason } from "./instruction-filters.js";
import { parseGeneratedInstructions } from "./parse-generated-instructions.js";

const PROMPT_TXT = readFileSync(new URL("../../test-fixtures/alpaca/prompt.txt", import.meta.url), "utf8");

describe("encodeSelfInstructPrompt", () => {
  it("ships Stanford Alpaca's prompt.txt unchanged", () => {
    expect(ALPACA_SELF_INSTRUCT_PROMPT).toBe(PROMPT_TXT);
  });

  it("numbers the examples, fences them with ### and ends with the next Instruction:", () => {
    const prompt = encodeSelfInstructPrompt(PROMPT_TXT, [
      { instruction: "Give  three\ttips for staying healthy:", input: "", output: "Eat well." },
      { instruction: "Translate to French.", input: "Good morning", output: "Bonjour" },
      { instruction: "Name a color.", input: "", output: "Blue" },
    ]);
    expect(prompt.startsWith(PROMPT_TXT + "\n###\n")).toBe(true);
    expect(prompt).toContain(
      "1. Instruction: Give three tips for staying healthy\n1. Input:\n<noinput>\n1. Output:\nEat well.\n###\n",
    );
    expect(prompt).toContain("2. Instruction: Translate to French.\n2. Input:\nGood morning\n2. Output:\nBonjour\n");
    expect(prompt.endsWith("3. Output:\nBlue\n###\n4. Instruction:")).toBe(true);
  });
});

const COMPLETION_STYLE = ` Summarize the main idea of the given paragraph.
4. Input:
The city council voted to expand the park.
4. Output:
The council will make the park bigger.

###
5. Instruction: Name three famous painters from Spain.
5. Input:
<noinput>
5. Output:
Picasso, Dalí and Goya.
###
6. Instruction: Broken item without fields
###
7. Instruction: Suggest a title for a story about a lost dog.
7. Input:
<noinput>
7. Output:
Finding Max`;

describe("parseGeneratedInstructions", () => {
  it('parses a completion that continues after "4. Instruction:"', () => {
    const records = parseGeneratedInstructions(COMPLETION_STYLE, { promptExampleCount: 3, finishReason: "stop" });
    expect(records).toEqual([
      {
        instruction: "Summarize the main idea of the given paragraph.",
        input: "The city council voted to expand the park.",
        output: "The council will make the park bigger.",
      },
      { instruction: "Name three famous painters from Spain.", input: "", output: "Picasso, Dalí and Goya." },
      { instruction: "Suggest a title for a story about a lost dog.", input: "", output: "Finding Max" },
    ]);
  });

  it('parses a chat answer that repeats the "4. Instruction:" prefix, and one without ### fences', () => {
    const chat = `4. Instruction:${COMPLETION_STYLE}`;
    expect(parseGeneratedInstructions(chat, { promptExampleCount: 3 })).toHaveLength(3);
    const unfenced =
      "4. Instruction: List two prime numbers above ten.\n4. Input:\n<noinput>\n4. Output:\n11 and 13\n5. Instruction: Explain why the sky looks blue.\n5. Input:\n<noinput>\n5. Output:\nRayleigh scattering.\n";
    expect(parseGeneratedInstructions(unfenced, { promptExampleCount: 3 }).map((r) => r.instruction)).toEqual([
      "List two prime numbers above ten.",
      "Explain why the sky looks blue.",
    ]);
  });

  it("drops the last item when the answer was cut by the length limit", () => {
    const records = parseGeneratedInstructions(COMPLETION_STYLE, { promptExampleCount: 3, finishReason: "length" });
    expect(records.map((r) => r.instruction)).toEqual([
      "Summarize the main idea of the given paragraph.",
      "Name three famous painters from Spain.",
    ]);
  });

  it("returns nothing for garbage", () => {
    expect(parseGeneratedInstructions("I cannot help with that.", { promptExampleCount: 3 })).toEqual([]);
    expect(parseGeneratedInstructions("", { promptExampleCount: 3 })).toEqual([]);
  });
});

describe("instructionRejectionReason (generate_instruction.py filters)", () => {
  it.each([
    ["Name a fruit.", "too-short"],
    [Array.from({ length: 151 }, () => "word").join(" "), "too-long"],
    ["Describe the image in one sentence please.", "blacklisted"],
    ["Please go to the store and buy milk.", "blacklisted"],
    ["Create a FLOWCHART of the login process.", "blacklisted"],
    ["Write a program that prints prime numbers.", "write-a-program"],
    ['"Quote" this sentence for me please.', "starts-with-punctuation"],
    ["Élaborez une liste de trois fruits.", "starts-non-ascii"],
  ])("%s → %s", (instruction, reason) => {
    expect(instructionRejectionReason(instruction)).toBe(reason);
  });

  it("keeps good instructions; blacklist words match whole words only", () => {
    expect(instructionRejectionReason("Name four animals that live in the ocean.")).toBeNull();
    expect(instructionRejectionReason("Describe the profile of a typical customer.")).toBeNull(); // "file" inside "profile"
    expect(instructionRejectionReason("Explain how plotting a story arc works.")).toBeNull(); // "plot" inside "plotting"
    expect(instructionRejectionReason("Name four animals with exactly 150 words limit", { maxWords: 7 })).toBe(
      "too-long",
    );
    expect(instructionRejectionReason("다음 문장을 영어로 번역하세요 지금", { rejectNonAsciiStart: false })).toBeNull();
  });
});
