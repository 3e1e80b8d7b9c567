import { readFileSync } from "node:fs";
import { seededRandom } from "@llamats/instruct-data";
import type { BrownSentence } from "./brown-corpus.js";

/** A pretraining document: plain prose, or one instruction record that the caller renders with the Alpaca template. */
export type PretrainingDocument =
  { kind: "text"; text: string } | { kind: "instruction"; instruction: string; input: string; output: string };

const SENTENCES_PER_PARAGRAPH = 6;

/** Brown sentences grouped into short paragraphs, in corpus order. */
export function brownParagraphs(sentences: BrownSentence[]): PretrainingDocument[] {
  const docs: PretrainingDocument[] = [];
  for (let i = 0; i < sentences.length; i += SENTENCES_PER_PARAGRAPH) {
    const text = sentences
      .slice(i, i + SENTENCES_PER_PARAGRAPH)
      .map((s) => s.text)
      .join(" ");
    docs.push({ kind: "text", text });
  }
  return docs;
}

/** Stanford Alpaca's 175 seed tasks (data/seed_tasks.jsonl), one record per instance. */
export function seedTaskRecords(path: string): PretrainingDocument[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .flatMap((line) => {
      const task = JSON.parse(line) as { instruction: string; instances: { input: string; output: string }[] };
      return task.instances.map((instance) => ({
        kind: "instruction" as const,
        instruction: task.instruction,
        input: instance.input,
        output: instance.output,
      }));
    });
}

/**
 * Generic instruction records made from Brown sentences, so the base model learns the Alpaca prompt format and to stop
 * after a response. They are deliberately unlike the demo's families (whole sentences, no word lists, no counting).
 */
export function brownInstructionRecords(
  sentences: BrownSentence[],
  count: number,
  seed: number,
): PretrainingDocument[] {
  const random = seededRandom(seed);
  const usable = sentences.filter((s) => s.words.length >= 8 && s.words.length <= 30);
  const records: PretrainingDocument[] = [];
  while (records.length < count) {
    const sentence = usable[Math.floor(random() * usable.length)] as BrownSentence;
    const words = sentence.text.split(" ");
    const kind = random();
    if (kind < 0.35) {
      // Copying from the prompt into the response is the skill every instruction task leans on.
      records.push({
        kind: "instruction",
        instruction: "Repeat this sentence.",
        input: sentence.text,
        output: sentence.text,
      });
    } else if (kind < 0.7) {
      const cut = 3 + Math.floor(random() * 4);
      records.push({
        kind: "instruction",
        instruction: "Continue this sentence.",
        input: words.slice(0, cut).join(" "),
        output: sentence.text,
      });
    } else {
      const nouns = sentence.words.filter((w) => w.tag === "nn" && /^[a-z]{4,}$/.test(w.word));
      const noun = nouns[Math.floor(random() * nouns.length)];
      if (!noun) continue;
      records.push({
        kind: "instruction",
        instruction: `Write a sentence that uses the word "${noun.word}".`,
        input: "",
        output: sentence.text,
      });
    }
  }
  return records;
}
