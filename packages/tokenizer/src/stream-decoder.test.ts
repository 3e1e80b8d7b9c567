import { describe, expect, it } from "vitest";
import { HfTokenizer } from "./hf/hf-tokenizer.js";
import { SentencePieceTokenizer } from "./sentencepiece/sentencepiece-tokenizer.js";
import { readFixtureBytes, readFixtureJson, type SentencePieceCase } from "./testing/fixtures.js";
import type { Tokenizer } from "./tokenizer.js";

const cases = readFixtureJson<SentencePieceCase[]>("tokenizer-sp", "cases.json");
const tokenizers: Array<[string, Tokenizer]> = [
  ["sentencepiece", SentencePieceTokenizer.fromModelProto(readFixtureBytes("tokenizer-sp", "tokenizer.model"))],
  ["tokenizer.json (Metaspace)", HfTokenizer.fromTokenizerJson(readFixtureJson("tokenizer-sp-hf", "tokenizer.json"))],
  [
    "tokenizer.json (ByteLevel)",
    HfTokenizer.fromTokenizerJson(readFixtureJson("tokenizer-bytelevel", "tokenizer.json")),
  ],
];

describe.each(tokenizers)("streaming decode with %s", (_name, tokenizer) => {
  it.each([false, true])("chunks join to decode(allIds) (skipSpecialTokens %s)", (skipSpecialTokens) => {
    for (const c of cases) {
      const ids = [...tokenizer.encode(c.text), ...(tokenizer.eosTokenId !== null ? [tokenizer.eosTokenId] : [])];
      const stream = tokenizer.createStreamDecoder({ skipSpecialTokens });
      const chunks = ids.map((id) => stream.push(id));
      chunks.push(stream.flush());
      expect(chunks.join("")).toBe(tokenizer.decode(ids, { skipSpecialTokens }));
      // A chunk never ends inside a character: no replacement character unless the full text has one.
      if (!c.text.includes("\uFFFD")) for (const chunk of chunks) expect(chunk).not.toContain("\uFFFD");
    }
  });

  it("keeps the space before a word that arrives on its own", () => {
    const ids = tokenizer.encode("Hello world", { addSpecialTokens: false });
    const stream = tokenizer.createStreamDecoder();
    const chunks = ids.map((id) => stream.push(id));
    expect(chunks.join("") + stream.flush()).toBe("Hello world");
    expect(chunks.some((chunk) => chunk.startsWith(" "))).toBe(true);
  });
});
