import { getTemplate, renderTextPrompt, seededRandom } from "@llamats/instruct-data";
import type { BrownSentence } from "./brown-corpus.js";
import { SEED_TASKS_FILE } from "./paths.js";
import {
  brownInstructionRecords,
  brownParagraphs,
  seedTaskRecords,
  type PretrainingDocument,
} from "./pretraining-documents.js";

const BROWN_INSTRUCTION_RECORDS = 4000;

/** Every pretraining document as the text the model reads (instruction records in the Alpaca template), shuffled. */
export function pretrainingTexts(sentences: BrownSentence[], seed: number): string[] {
  const template = getTemplate("alpaca");
  const docs: PretrainingDocument[] = [
    ...brownParagraphs(sentences),
    ...brownInstructionRecords(sentences, BROWN_INSTRUCTION_RECORDS, seed),
    // The seed tasks are few: show them twice so the format of real Alpaca instructions is seen more than once.
    ...seedTaskRecords(SEED_TASKS_FILE),
    ...seedTaskRecords(SEED_TASKS_FILE),
  ];
  const texts = docs.map((doc) =>
    doc.kind === "text" ? doc.text : renderTextPrompt(template, doc.instruction, doc.input) + doc.output,
  );
  const random = seededRandom(seed);
  return texts
    .map((text) => ({ text, r: random() }))
    .sort((a, b) => a.r - b.r)
    .map(({ text }) => text);
}
