/** One demo instruction family: a fixed instruction and a generator of (input, output) from words, numbers or sentences. */
export interface InstructionFamily {
  name: string;
  instruction: string;
  /** Builds the family's `index`-th item from a draw of the split's pools; closed-set families cycle their classes by index. */
  make(draw: FamilyDraw, index: number): { input: string; output: string };
}

/** Draws from the split's own pools, so held-out items use words and numbers that training never shows. */
export interface FamilyDraw {
  words(count: number): string[];
  /** A start number from the split's pool (1–60). */
  startNumber(): number;
  /** A four-digit number from the split's pool (1000–9999). */
  fourDigitNumber(): number;
  /** A short Brown sentence from the split's pool: a question (ends in "?") or a statement (ends in "."). */
  sentence(question: boolean): string;
  /** A free choice, e.g. a list length. */
  integer(min: number, max: number): number;
}

const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

// Outputs start with a short fixed phrase so the answer words keep SentencePiece's "▁word" pieces, as in the input.
export const DEMO_FAMILIES: readonly InstructionFamily[] = [
  {
    name: "first_word",
    instruction: "Write the first word of this list.",
    make(draw) {
      const words = draw.words(draw.integer(3, 5));
      return { input: words.join(", "), output: `The first word is ${words[0]}.` };
    },
  },
  {
    name: "last_word",
    instruction: "Write the last word of this list.",
    make(draw) {
      const words = draw.words(draw.integer(3, 5));
      return { input: words.join(", "), output: `The last word is ${words[words.length - 1]}.` };
    },
  },
  {
    name: "repeat_word",
    instruction: "Repeat this word three times.",
    make(draw) {
      const [word] = draw.words(1);
      return { input: word as string, output: `Three times: ${word} ${word} ${word}.` };
    },
  },
  {
    name: "reverse_list",
    instruction: "Write this list in reverse order.",
    make(draw) {
      const words = draw.words(3);
      return { input: words.join(", "), output: `In reverse order: ${[...words].reverse().join(", ")}.` };
    },
  },
  {
    name: "continue_count",
    instruction: "Continue the count with the next three numbers.",
    make(draw) {
      const start = draw.startNumber();
      const shown = [start, start + 1, start + 2];
      const next = [start + 3, start + 4, start + 5];
      return { input: shown.join(", "), output: `The next numbers are ${next.join(", ")}.` };
    },
  },
  // The families below answer from a closed set (a class or a small count), so a held-out answer needs no unseen word.
  {
    name: "parity",
    instruction: "Is this number even or odd?",
    make(draw, index) {
      // Classes alternate by index, so a split is balanced and always answering one class scores only half.
      const odd = index % 2 === 1;
      let n = draw.fourDigitNumber();
      while (n % 2 !== (odd ? 1 : 0)) n = draw.fourDigitNumber();
      return { input: String(n), output: `The number is ${n % 2 === 0 ? "even" : "odd"}.` };
    },
  },
  {
    name: "sentence_type",
    instruction: "Is this sentence a question or a statement?",
    make(draw, index) {
      const question = index % 2 === 0;
      return { input: draw.sentence(question), output: `It is a ${question ? "question" : "statement"}.` };
    },
  },
  {
    name: "count_words",
    instruction: "How many words are in this list?",
    make(draw, index) {
      const words = draw.words(2 + (index % 4));
      return { input: words.join(", "), output: `The list has ${NUMBER_WORDS[words.length]} words.` };
    },
  },
];
