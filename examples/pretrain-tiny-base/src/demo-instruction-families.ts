/** One demo instruction family: a fixed instruction and a generator of (input, output) from words or numbers. */
export interface InstructionFamily {
  name: string;
  instruction: string;
  /** Builds an item from a draw of pool words (or numbers for `continue_count`). */
  make(draw: FamilyDraw): { input: string; output: string };
}

/** Draws from the split's own pools, so held-out items use words and numbers that training never shows. */
export interface FamilyDraw {
  words(count: number): string[];
  /** A start number from the split's pool (1–60). */
  startNumber(): number;
  /** A free choice, e.g. a list length. */
  integer(min: number, max: number): number;
}

// Outputs start with a short fixed phrase so the answer words keep SentencePiece's "▁word" pieces, as in the input.
export const DEMO_FAMILIES: readonly InstructionFamily[] = [
  {
    name: 'first_word',
    instruction: 'Write the first word of this list.',
    make(draw) {
      const words = draw.words(draw.integer(3, 5));
      return { input: words.join(', '), output: `The first word is ${words[0]}.` };
    },
  },
  {
    name: 'last_word',
    instruction: 'Write the last word of this list.',
    make(draw) {
      const words = draw.words(draw.integer(3, 5));
      return { input: words.join(', '), output: `The last word is ${words[words.length - 1]}.` };
    },
  },
  {
    name: 'repeat_word',
    instruction: 'Repeat this word three times.',
    make(draw) {
      const [word] = draw.words(1);
      return { input: word as string, output: `Three times: ${word} ${word} ${word}.` };
    },
  },
  {
    name: 'reverse_list',
    instruction: 'Write this list in reverse order.',
    make(draw) {
      const words = draw.words(3);
      return { input: words.join(', '), output: `In reverse order: ${[...words].reverse().join(', ')}.` };
    },
  },
  {
    name: 'continue_count',
    instruction: 'Continue the count with the next three numbers.',
    make(draw) {
      const start = draw.startNumber();
      const shown = [start, start + 1, start + 2];
      const next = [start + 3, start + 4, start + 5];
      return { input: shown.join(', '), output: `The next numbers are ${next.join(', ')}.` };
    },
  },
];
