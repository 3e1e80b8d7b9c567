import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadTokenizer,
  parseModelProto,
  sentencePieceToTokenizerJson,
  tokenizerJsonToString,
  type Tokenizer,
} from "../index.js";
import {
  fixturePath,
  readFixtureBytes,
  readFixtureJson,
  type SentencePieceCase,
  type TokenizersCase,
} from "../testing/fixtures.js";

const model = parseModelProto(readFixtureBytes("tokenizer-sp", "tokenizer.model"));
const expectedText = readFileSync(fixturePath("tokenizer-sp-hf", "tokenizer.json"), "utf8");
const spCases = readFixtureJson<SentencePieceCase[]>("tokenizer-sp", "cases.json");
const hfCases = readFixtureJson<TokenizersCase[]>("tokenizer-sp-hf", "cases.json");

describe("sentencePieceToTokenizerJson", () => {
  it("writes the same tokenizer.json transformers wrote for the fixture model, byte for byte", () => {
    expect(tokenizerJsonToString(sentencePieceToTokenizerJson(model))).toBe(expectedText);
  });

  it("returns plain JSON data: JSON.stringify keeps every value and gives the fixture file", () => {
    const json = sentencePieceToTokenizerJson(model);
    const roundTripped: unknown = JSON.parse(JSON.stringify(json));
    expect(roundTripped).toStrictEqual(json);
    expect(roundTripped).toStrictEqual(JSON.parse(expectedText));
  });
});

describe("a tokenizer.json written with JSON.stringify from tokenizer.model", () => {
  let dir = "";
  let fromJson: Tokenizer;
  let fromModel: Tokenizer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "llamats-tokjson-"));
    // What the demo did: plain JSON.stringify, no tokenizerJsonToString.
    await writeFile(join(dir, "tokenizer.json"), JSON.stringify(sentencePieceToTokenizerJson(model), null, 2) + "\n");
    fromJson = await loadTokenizer(join(dir, "tokenizer.json"));
    fromModel = await loadTokenizer(fixturePath("tokenizer-sp", "tokenizer.model"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("encodes every case to the tokenizers library ids", () => {
    for (const c of hfCases) {
      expect(fromJson.encode(c.text, { addSpecialTokens: false })).toEqual(c.ids);
      if (c.ids_with_specials) expect(fromJson.encode(c.text)).toEqual(c.ids_with_specials);
    }
  });

  it("encodes and decodes like tokenizer.model wherever the fixtures say the two agree", () => {
    expect(hfCases.map((c) => c.text)).toEqual(spCases.map((c) => c.text));
    const agreeing = spCases.filter((c, i) => JSON.stringify(c.ids) === JSON.stringify(hfCases[i]!.ids));
    // Most cases agree; the rest are the documented leading-space / literal <s> differences.
    expect(agreeing.length).toBeGreaterThan(spCases.length / 2);
    for (const c of agreeing) {
      expect(fromJson.encode(c.text, { addSpecialTokens: false })).toEqual(c.ids);
      expect(fromJson.encode(c.text)).toEqual(fromModel.encode(c.text));
      expect(fromJson.decode(c.ids)).toBe(fromModel.decode(c.ids));
      expect(fromJson.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decoded);
    }
  });
});
