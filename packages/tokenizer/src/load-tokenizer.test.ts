import { describe, expect, it } from "vitest";
import { FIXTURES_DIR, fixturePath } from "./testing/fixtures.js";
import { join } from "node:path";
import { loadTokenizer } from "./load-tokenizer.js";

describe("loadTokenizer", () => {
  it("loads a tokenizer.model file as SentencePiece", async () => {
    const tokenizer = await loadTokenizer(fixturePath("tokenizer-sp", "tokenizer.model"));
    expect(tokenizer.encode(" Hello world", { addSpecialTokens: false }).map((id) => tokenizer.idToToken(id))).toEqual([
      "▁▁",
      "H",
      "ell",
      "o",
      "▁world",
    ]);
  });

  it("loads a folder with tokenizer.json and its tokenizer_config.json", async () => {
    const tokenizer = await loadTokenizer(join(FIXTURES_DIR, "tokenizer-sp-hf"));
    expect(tokenizer.bosTokenId).toBe(1);
    expect(tokenizer.encode(" Hello world")).toEqual([1, 391, 461, 1422, 1233]);
  });

  it("names the folder when it has no tokenizer", async () => {
    await expect(loadTokenizer(FIXTURES_DIR)).rejects.toThrowError(/has neither tokenizer\.json nor tokenizer\.model/);
  });
});
