import { describe, expect, it } from "vitest";
import { ConfigError } from "@llamats/core";
import { readFixtureJson, type TokenizersCase } from "../testing/fixtures.js";
import { parseTokenizerConfig } from "../tokenizer-config.js";
import { HfTokenizer } from "./hf-tokenizer.js";

const spHfJson = readFixtureJson<Record<string, unknown>>("tokenizer-sp-hf", "tokenizer.json");
const spHfConfig = parseTokenizerConfig(readFixtureJson("tokenizer-sp-hf", "tokenizer_config.json"));
const spHf = HfTokenizer.fromTokenizerJson(spHfJson, { config: spHfConfig, source: "tokenizer-sp-hf/tokenizer.json" });
const byteLevelJson = readFixtureJson<Record<string, unknown>>("tokenizer-bytelevel", "tokenizer.json");
const byteLevel = HfTokenizer.fromTokenizerJson(byteLevelJson, { source: "tokenizer-bytelevel/tokenizer.json" });

describe.each([
  ["tokenizer-sp-hf", spHf],
  ["tokenizer-bytelevel", byteLevel],
] as const)("HfTokenizer on the %s fixture", (name, tokenizer) => {
  const cases = readFixtureJson<TokenizersCase[]>(name, "cases.json");

  it.each(cases.map((c, i) => [i, c] as const))("case %i encodes to the tokenizers library ids", (_i, c) => {
    const ids = tokenizer.encode(c.text, { addSpecialTokens: false });
    expect(ids).toEqual(c.ids);
    expect(ids.map((id) => tokenizer.idToToken(id))).toEqual(c.tokens);
    if (c.ids_with_specials) expect(tokenizer.encode(c.text)).toEqual(c.ids_with_specials);
  });

  it("decodes every case (skipping special tokens) as the tokenizers library does", () => {
    for (const c of cases) expect(tokenizer.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decoded);
  });
});

describe("HfTokenizer details", () => {
  it("follows the file, not SentencePiece, on a leading space and literal <s>", () => {
    expect(spHf.encode(" Hello world", { addSpecialTokens: false }).map((id) => spHf.idToToken(id))).toEqual([
      "▁H",
      "ell",
      "o",
      "▁world",
    ]);
    expect(spHf.encode("<s> x", { addSpecialTokens: false })[0]).toBe(1);
  });

  it("takes special tokens from tokenizer_config.json", () => {
    expect([spHf.bosTokenId, spHf.eosTokenId, spHf.padTokenId]).toEqual([1, 2, null]);
    expect(spHf.vocabSize).toBe(2000);
  });

  it("keeps special tokens in decode unless asked to skip them", () => {
    const ids = spHf.encode("Hi");
    expect(spHf.decode(ids)).toBe("<s> Hi");
    expect(spHf.decode(ids, { skipSpecialTokens: true })).toBe("Hi");
  });

  it("adds EOS when tokenizer_config.json says add_eos_token", () => {
    const withEos = HfTokenizer.fromTokenizerJson(spHfJson, { config: { ...spHfConfig, addEosToken: true } });
    const ids = withEos.encode("Hi");
    expect(ids[0]).toBe(1);
    expect(ids[ids.length - 1]).toBe(2);
  });

  it("refuses a component it does not support, naming the file and component", () => {
    const json = { ...spHfJson, normalizer: { type: "BertNormalizer" } };
    expect(() => HfTokenizer.fromTokenizerJson(json, { source: "repo/tokenizer.json" })).toThrowError(
      /repo\/tokenizer\.json: normalizer has type "BertNormalizer"/,
    );
    try {
      HfTokenizer.fromTokenizerJson({ ...spHfJson, model: { type: "Unigram", vocab: [] } }, { source: "u.json" });
      expect.unreachable();
    } catch (error) {
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/u\.json: model\.type has type "Unigram"/);
    }
  });

  it("refuses a regex with possessive quantifiers rather than running a different one", () => {
    const json = {
      ...byteLevelJson,
      pre_tokenizer: { type: "Split", pattern: { Regex: "\\p{L}++" }, behavior: "Isolated", invert: false },
    };
    expect(() => HfTokenizer.fromTokenizerJson(json, { source: "b.json" })).toThrowError(
      /pre_tokenizer\.pattern.*possessive/,
    );
  });
});

describe("added tokens", () => {
  const base = {
    model: { type: "BPE", vocab: { a: 0, b: 1, " ": 2, "<x>": 3 }, merges: [] },
    pre_tokenizer: null,
    decoder: null,
  };
  const make = (flags: Record<string, boolean>): HfTokenizer =>
    HfTokenizer.fromTokenizerJson({
      ...base,
      added_tokens: [
        {
          id: 3,
          content: "<x>",
          special: true,
          normalized: false,
          lstrip: false,
          rstrip: false,
          single_word: false,
          ...flags,
        },
      ],
    });

  it("splits the text around an added token", () => {
    expect(make({}).encode("a <x> b")).toEqual([0, 2, 3, 2, 1]);
  });

  it("lstrip and rstrip absorb the neighbouring spaces", () => {
    expect(make({ lstrip: true }).encode("a <x> b")).toEqual([0, 3, 2, 1]);
    expect(make({ rstrip: true }).encode("a <x> b")).toEqual([0, 2, 3, 1]);
  });

  it("single_word tokens only match as whole words", () => {
    expect(make({ single_word: true }).encode("a<x>")).not.toContain(3);
    expect(make({ single_word: true }).encode("a <x>")).toContain(3);
  });
});
