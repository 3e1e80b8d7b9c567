import { seededRandom } from "../util/seeded-random.js";

const OPENERS = [
  "Write",
  "Generate",
  "Create",
  "Describe",
  "Explain",
  "Give",
  "List",
  "Summarize",
  "Rewrite",
  "Classify",
  "Suggest",
  "Translate",
  "Compare",
  "Identify",
  "Find",
  "Design",
  "Compose",
  "Provide",
  "Name",
  "Edit",
];
const OBJECTS = [
  "a poem",
  "a short story",
  "a list",
  "an email",
  "a summary",
  "three tips",
  "an example",
  "a sentence",
  "a paragraph",
  "a recipe",
  "a headline",
  "a tweet",
  "a question",
  "an essay",
  "a dialogue",
  "a slogan",
  "a plan",
  "a review",
  "a joke",
  "a definition",
];
const WORDS = (
  "about the following topic for a child using simple words that explains how why when where people animals plants city river " +
  "mountain ocean computer science history music art food travel health sport money time friend family school work weather " +
  "planet space energy water climate change future past language culture book movie game team leader customer product service " +
  "market price data model network system process method result problem solution idea goal rule law right power war peace " +
  "love fear hope dream memory story character hero villain journey adventure mystery secret truth lie choice chance risk " +
  "reward success failure lesson skill habit routine morning evening night day week month year season spring summer autumn " +
  "winter holiday birthday wedding party meeting interview speech presentation report article letter note message phone app " +
  "website software hardware robot machine engine car bike train plane ship road bridge tower house garden kitchen room"
).split(" ");

/**
 * Instruction-like texts for benchmarks: an opener verb, an object and 3–25 topic words, with one in ten a
 * light edit of an earlier text (so dedup has near-duplicates to find). Seeded, so runs compare.
 */
export function syntheticInstructions(options: { count: number; seed?: number }): string[] {
  const random = seededRandom(options.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const out: string[] = [];
  for (let i = 0; i < options.count; i++) {
    if (i > 10 && random() < 0.1) {
      const words = (out[Math.floor(random() * out.length)] as string).split(" ");
      words[1 + Math.floor(random() * (words.length - 1))] = pick(WORDS);
      out.push(words.join(" "));
      continue;
    }
    const length = 3 + Math.floor(random() * 23);
    const filler = Array.from({ length }, () => pick(WORDS));
    out.push(`${pick(OPENERS)} ${pick(OBJECTS)} ${filler.join(" ")}.`);
  }
  return out;
}
