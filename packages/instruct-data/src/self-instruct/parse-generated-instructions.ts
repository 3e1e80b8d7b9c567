import type { AlpacaRecord } from "../dataset/records.js";

export interface ParseGeneratedOptions {
  /** How many examples the prompt held (3): the model continues at number `count + 1`. */
  promptExampleCount: number;
  /** `length` means the answer was cut off, so its last item is dropped as likely truncated. */
  finishReason?: string | null;
}

const ITEM_FIELDS = /\d+\s*\.\s+(Instruction|Input|Output)\s*:/;
const ITEM_START = /(?<!\d)(?=\d+\s*\.\s+Instruction\s*:)/;

/**
 * Parses a teacher's answer into instruction records. The answer continues "N. Instruction:" — chat models
 * often repeat that prefix, completion models do not; both parse. Items are split on `###` (and before
 * each "K. Instruction:" for answers that drop the fences); an item needs Instruction, Input and Output
 * in that order; `<noinput>` means an empty input.
 */
export function parseGeneratedInstructions(text: string, options: ParseGeneratedOptions): AlpacaRecord[] {
  const next = options.promptExampleCount + 1;
  const body = /^\s*(?:###\s*)?\d+\s*\.\s+Instruction\s*:/.test(text) ? text : `${next}. Instruction:${text}`;
  const items = body
    .split("###")
    .flatMap((chunk) => chunk.split(ITEM_START))
    .filter((chunk) => chunk.trim() !== "");
  if (options.finishReason === "length") items.pop();
  const records: AlpacaRecord[] = [];
  for (const item of items) {
    const parts = item.split(ITEM_FIELDS);
    if (parts.length !== 7 || parts[1] !== "Instruction" || parts[3] !== "Input" || parts[5] !== "Output") continue;
    const instruction = (parts[2] as string).trim();
    const rawInput = (parts[4] as string).trim();
    const input = rawInput.toLowerCase() === "<noinput>" ? "" : rawInput;
    const output = (parts[6] as string).trim();
    records.push({ instruction, input, output });
  }
  return records;
}
