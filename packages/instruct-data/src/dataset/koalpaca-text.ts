import type { AlpacaRecord } from "./records.js";

// KoAlpaca's training text: "### 질문: …\n\n### 답변: …" (an optional "### 맥락:" holds the input).
const KOALPACA_TEXT =
  /^\s*###\s*질문\s*:\s*([\s\S]*?)\s*(?:###\s*(?:맥락|입력)\s*:\s*([\s\S]*?)\s*)?###\s*답변\s*:\s*([\s\S]*?)\s*$/;
const END_MARKERS = /(?:<\|endoftext\|>|<\/s>)\s*$/;

/** Parses KoAlpaca's `### 질문: … ### 답변: …` text into a record; null when the text is not in that form. */
export function parseKoalpacaText(text: string): AlpacaRecord | null {
  const match = KOALPACA_TEXT.exec(text.replace(END_MARKERS, ""));
  if (!match) return null;
  return { instruction: match[1] ?? "", input: match[2] ?? "", output: match[3] ?? "" };
}
