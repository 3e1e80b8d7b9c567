/** Words that mark tasks a text model cannot do (Stanford Alpaca's blacklist). */
export const DEFAULT_BLACKLIST: readonly string[] = [
  "image",
  "images",
  "graph",
  "graphs",
  "picture",
  "pictures",
  "file",
  "files",
  "map",
  "maps",
  "draw",
  "plot",
  "go to",
  "video",
  "audio",
  "music",
  "flowchart",
  "diagram",
];

export interface InstructionFilterOptions {
  /** Fewer words than this are rejected (default 4, i.e. "3 words or fewer"). */
  minWords?: number;
  /** More words than this are rejected (default 150). */
  maxWords?: number;
  blacklist?: readonly string[];
  /** Reject instructions whose first character is not ASCII (default true, as the original; turn off for Korean). */
  rejectNonAsciiStart?: boolean;
}

export type RejectionReason =
  | "too-short"
  | "too-long"
  | "blacklisted"
  | "write-a-program"
  | "starts-with-punctuation"
  | "starts-non-ascii"
  | "too-similar";

// Python's string.punctuation.
const ASCII_PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Why an instruction is filtered out before dedup, or null when it passes (generate_instruction.py's rules). */
export function instructionRejectionReason(
  instruction: string,
  options: InstructionFilterOptions = {},
): RejectionReason | null {
  const words = instruction.split(/\s+/).filter((w) => w !== "").length;
  if (words < (options.minWords ?? 4)) return "too-short";
  if (words > (options.maxWords ?? 150)) return "too-long";
  const blacklist = options.blacklist ?? DEFAULT_BLACKLIST;
  if (blacklist.some((word) => new RegExp(`\\b(${escapeRegExp(word)})\\b`, "i").test(instruction)))
    return "blacklisted";
  if (instruction.startsWith("Write a program")) return "write-a-program";
  const first = instruction[0] ?? "";
  if (ASCII_PUNCTUATION.has(first)) return "starts-with-punctuation";
  if ((options.rejectNonAsciiStart ?? true) && first.charCodeAt(0) > 0x7f) return "starts-non-ascii";
  return null;
}
