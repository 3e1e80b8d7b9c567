import { INSTRUCTION_VERBS, PHRASAL_PARTICLES, PHRASE_BREAKERS, SKIPPED_BEFORE_OBJECT } from "./instruction-verbs.js";

export interface VerbNoun {
  verb: string;
  /** The head of the verb's direct object, singular; null when none was found ("Explain how …"). */
  noun: string | null;
}

// Crude singular, enough to merge "tips" with "tip" and "stories" with "story".
export function singularNoun(word: string): string {
  if (word.length > 4 && word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && /(ches|shes|xes|sses)$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith("s") && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

function words(text: string): string[] {
  return (
    text
      .toLowerCase()
      .replace(/[’']/g, "'")
      .match(/[a-z][a-z'-]*|\d+|[.,;:!?()"]/g) ?? []
  );
}

/**
 * The root verb of an imperative instruction and the head noun of its direct object, by a small lexicon
 * and phrase rules (Alpaca's figure used a constituency parser): "Write a short story about…" → write / story,
 * "Come up with a list of…" → come / list. Questions and other non-imperatives give null.
 */
export function extractVerbNoun(instruction: string): VerbNoun | null {
  const tokens = words(instruction);
  let start = 0;
  if (tokens[0] === "please") start = 1;
  // "Given a sentence, rewrite it…": the verb follows the opening clause.
  if (["given", "using", "based", "for", "in", "with"].includes(tokens[0] ?? "")) {
    const comma = tokens.indexOf(",");
    if (comma < 0) return null;
    start = comma + 1;
  }
  const verb = tokens[start];
  if (!verb || !INSTRUCTION_VERBS.has(verb)) return null;
  let i = start + 1;
  for (const particle of PHRASAL_PARTICLES[verb] ?? []) if (tokens[i] === particle) i++;
  const phrase: string[] = [];
  for (; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (PHRASE_BREAKERS.has(token) || /^[.,;:!?()"]$/.test(token)) break;
    if (phrase.length === 0 && (SKIPPED_BEFORE_OBJECT.has(token) || /^\d+$/.test(token))) continue;
    phrase.push(token);
  }
  const head = phrase[phrase.length - 1];
  return { verb, noun: head ? singularNoun(head) : null };
}

export interface VerbNounAnalysis {
  total: number;
  /** Instructions with a recognised verb (and maybe a noun). */
  parsed: number;
  verbs: { verb: string; count: number; nouns: { noun: string; count: number }[] }[];
}

/** Counts verbs and their object nouns over many instructions, most frequent first. */
export function analyzeVerbNoun(instructions: readonly string[]): VerbNounAnalysis {
  const byVerb = new Map<string, Map<string, number>>();
  const verbCount = new Map<string, number>();
  let parsed = 0;
  for (const instruction of instructions) {
    const vn = extractVerbNoun(instruction);
    if (!vn) continue;
    parsed++;
    verbCount.set(vn.verb, (verbCount.get(vn.verb) ?? 0) + 1);
    if (vn.noun) {
      const nouns = byVerb.get(vn.verb) ?? new Map<string, number>();
      nouns.set(vn.noun, (nouns.get(vn.noun) ?? 0) + 1);
      byVerb.set(vn.verb, nouns);
    }
  }
  const verbs = [...verbCount.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([verb, count]) => ({
      verb,
      count,
      nouns: [...(byVerb.get(verb) ?? new Map<string, number>()).entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([noun, c]) => ({ noun, count: c })),
    }));
  return { total: instructions.length, parsed, verbs };
}
