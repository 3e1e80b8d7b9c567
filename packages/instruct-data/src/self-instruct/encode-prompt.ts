import type { AlpacaRecord } from "../dataset/records.js";

/**
 * The self-instruct request, as Stanford Alpaca's generate_instruction.py builds it: the instructions
 * text (prompt.txt), then each example numbered and fenced by `###`, ending with the next number's
 * `Instruction:` for the model to continue.
 */
export function encodeSelfInstructPrompt(promptText: string, examples: readonly AlpacaRecord[]): string {
  let prompt = `${promptText}\n`;
  examples.forEach((example, i) => {
    const n = i + 1;
    const instruction = example.instruction.replace(/\s+/g, " ").trim().replace(/:+$/, "");
    const input = example.input === "" ? "<noinput>" : example.input;
    prompt += `###\n${n}. Instruction: ${instruction}\n${n}. Input:\n${input}\n${n}. Output:\n${example.output}\n`;
  });
  prompt += `###\n${examples.length + 1}. Instruction:`;
  return prompt;
}
