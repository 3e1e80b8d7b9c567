import { readFileSync } from "node:fs";
import { fixturePath } from "./testing/fixtures.js";
import { describe, expect, it } from "vitest";
import { loadTokenizer } from "./load-tokenizer.js";
import { vocabularyOf } from "./vocabulary.js";

const fixture = (path: string): string => fixturePath(...(path.split("/") as [string, string]));

describe("vocabularyOf", () => {
  it("a SentencePiece model: every piece with its score and type, in id order", async () => {
    const vocab = vocabularyOf(await loadTokenizer(fixture("tokenizer-sp/tokenizer.model")));
    if (vocab.kind !== "sentencepiece") throw new Error(`expected a SentencePiece vocabulary, got ${vocab.kind}`);
    expect(vocab.tokens.length).toBe(2000);
    // LLaMA's trainer layout: <unk>, <s>, </s>, then the 256 byte pieces.
    expect(vocab.tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
    expect(vocab.types.slice(0, 4)).toEqual(["unknown", "control", "control", "byte"]);
    expect(vocab.types.slice(259).every((t) => t === "normal")).toBe(true);
    // BPE pieces are scored by merge order: later pieces score lower.
    expect(vocab.scores[300]).toBeGreaterThan(vocab.scores[1999]!);
    expect([vocab.unknownTokenId, vocab.bosTokenId, vocab.eosTokenId]).toEqual([0, 1, 2]);
    expect([vocab.addBosToken, vocab.addEosToken]).toEqual([true, false]);
  });

  it("a byte-level BPE tokenizer.json: tokens, special types, merges and the pre-tokenizer's regex", async () => {
    const path = fixture("tokenizer-bytelevel/tokenizer.json");
    const json = JSON.parse(readFileSync(path, "utf8")) as {
      model: { merges: [string, string][]; vocab: Record<string, number> };
      pre_tokenizer: { pretokenizers: { pattern?: { Regex: string } }[] };
    };
    const vocab = vocabularyOf(await loadTokenizer(path));
    if (vocab.kind !== "byte-level-bpe") throw new Error(`expected a byte-level vocabulary, got ${vocab.kind}`);
    expect(vocab.tokens.length).toBe(3000);
    for (const [token, id] of Object.entries(json.model.vocab).slice(0, 500)) expect(vocab.tokens[id]).toBe(token);
    expect(vocab.tokens[0]).toBe("<|begin_of_text|>");
    expect(vocab.types[0]).toBe("control");
    expect(vocab.types[1000]).toBe("normal");
    expect(vocab.merges.length).toBe(json.model.merges.length);
    expect(vocab.merges[0]).toBe(json.model.merges[0]!.join(" "));
    expect(vocab.splitRegexes).toEqual([json.pre_tokenizer.pretokenizers[0]!.pattern?.Regex]);
    expect(vocab.byteLevelRegex).toBe(false);
    expect(vocab.ignoreMerges).toBe(true);
  });

  it("refuses a SentencePiece-style tokenizer.json, naming the file and what to load instead", async () => {
    const tokenizer = await loadTokenizer(fixture("tokenizer-sp-hf/tokenizer.json"));
    expect(() => vocabularyOf(tokenizer)).toThrow(
      /tokenizer-sp-hf\/tokenizer.json: only byte-level BPE .*tokenizer.model/,
    );
  });
});
