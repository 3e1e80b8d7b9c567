// Splits normalized training text into the words BPE training counts, as SentencePiece's trainer
// does: a word starts at ▁, where the Unicode script changes, and (with split_digits) at every digit.

const SPACE = "\u2581";
const SCRIPTS = [
  "Latin",
  "Hangul",
  "Han",
  "Hiragana",
  "Katakana",
  "Cyrillic",
  "Greek",
  "Arabic",
  "Hebrew",
  "Thai",
  "Devanagari",
];
const SCRIPT_TESTS = SCRIPTS.map((s) => new RegExp(`^\\p{Script=${s}}$`, "u"));
const LETTER_OR_MARK = /^[\p{L}\p{M}]$/u;
const NUMBER = /^\p{N}$/u;

const CLASS_SPACE = -1;
const CLASS_DIGIT = -2;
const CLASS_OTHER = -3;
const CLASS_OTHER_LETTER = -4;

export class WordSplitter {
  private readonly classes = new Map<string, number>();

  constructor(private readonly splitDigits: boolean) {}

  private classOf(ch: string): number {
    let c = this.classes.get(ch);
    if (c !== undefined) return c;
    if (ch === SPACE) c = CLASS_SPACE;
    else if (NUMBER.test(ch)) c = CLASS_DIGIT;
    else if (LETTER_OR_MARK.test(ch)) {
      const i = SCRIPT_TESTS.findIndex((t) => t.test(ch));
      c = i >= 0 ? i : CLASS_OTHER_LETTER;
    } else c = CLASS_OTHER;
    this.classes.set(ch, c);
    return c;
  }

  /** Calls `onWord` for each word of a normalized sentence. */
  split(sentence: string, onWord: (word: string) => void): void {
    let start = 0;
    let prevClass = CLASS_SPACE;
    let i = 0;
    for (const ch of sentence) {
      const c = this.classOf(ch);
      let boundary = false;
      if (i > start) {
        if (c === CLASS_SPACE) boundary = prevClass !== CLASS_SPACE;
        else if (c === CLASS_DIGIT && this.splitDigits) boundary = true;
        else if (prevClass === CLASS_SPACE) boundary = false;
        else if (prevClass === CLASS_DIGIT && this.splitDigits) boundary = true;
        else boundary = c !== prevClass;
      }
      if (boundary) {
        onWord(sentence.slice(start, i));
        start = i;
      }
      prevClass = c;
      i += ch.length;
    }
    if (i > start) onWord(sentence.slice(start, i));
  }
}
