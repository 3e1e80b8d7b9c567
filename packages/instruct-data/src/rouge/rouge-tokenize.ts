/** `rouge-score`: google-research rouge_score's default tokenizer (English only). `unicode`: every script. */
export type RougeTokenizerName = "rouge-score" | "unicode";

const NON_ALPHANUMERIC = /[^a-z0-9]+/g;

/**
 * rouge_score's DefaultTokenizer without stemming: lowercase, every run of characters other than
 * a–z / 0–9 becomes a space, split on whitespace. Words in other scripts vanish.
 */
export function rougeScoreTokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(NON_ALPHANUMERIC, " ")
    .split(" ")
    .filter((t) => t !== "");
}

// Scripts written without spaces between words: each character counts as a token there.
const UNSPACED =
  "\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Thai}\\p{Script=Lao}\\p{Script=Khmer}\\p{Script=Myanmar}";
const UNICODE_TOKEN = new RegExp(`[${UNSPACED}]|(?:(?![${UNSPACED}])[\\p{L}\\p{M}\\p{N}])+`, "gu");

/**
 * A tokenizer for every script: NFKC, lowercase, runs of letters / marks / digits are words (Hangul,
 * Cyrillic, Arabic, accented Latin …); Chinese, Japanese kana, Thai and similar count per character.
 */
export function unicodeTokenize(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(UNICODE_TOKEN) ?? [];
}

export function rougeTokenizerFor(name: RougeTokenizerName = "rouge-score"): (text: string) => string[] {
  return name === "unicode" ? unicodeTokenize : rougeScoreTokenize;
}
