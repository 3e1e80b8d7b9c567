import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer } from "../load-tokenizer.js";
import { parseModelProto, serializeModelProto } from "../sentencepiece/model-proto.js";
import { SentencePieceTokenizer } from "../sentencepiece/sentencepiece-tokenizer.js";
import { readFixtureJson, type SentencePieceCase } from "../testing/fixtures.js";
import { writeTokenizerFiles } from "../write-tokenizer-files.js";
import { trainBpe } from "./train-bpe.js";

const texts = readFixtureJson<SentencePieceCase[]>("tokenizer-sp", "cases.json").map((c) => c.text);
const corpus = texts.join("\n");

describe("trainBpe", () => {
  const model = trainBpe(corpus, { vocabSize: 800 });
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "llamats-train-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("produces a LLaMA-style SentencePiece BPE model of the requested size", () => {
    expect(model.pieces).toHaveLength(800);
    expect(model.pieces.slice(0, 3).map((p) => [p.piece, p.type])).toEqual([
      ["<unk>", "unknown"],
      ["<s>", "control"],
      ["</s>", "control"],
    ]);
    expect(model.pieces[3]).toEqual({ piece: "<0x00>", score: 0, type: "byte" });
    expect(model.trainerSpec).toMatchObject({ modelType: "bpe", byteFallback: true, splitDigits: true });
    expect(new Set(model.pieces.map((p) => p.piece)).size).toBe(800);
    // Digits stay single pieces.
    expect(
      model.pieces.filter((p) => /\d/.test(p.piece) && p.type === "normal").every((p) => /^\d$/.test(p.piece)),
    ).toBe(true);
  });

  it("learns frequent words as single pieces", () => {
    const tokenizer = new SentencePieceTokenizer(model);
    expect(tokenizer.encode("the", { addSpecialTokens: false }).map((id) => tokenizer.idToToken(id))).toEqual(["▁the"]);
  });

  it("round-trips every training text through encode and decode", () => {
    const tokenizer = SentencePieceTokenizer.fromModelProto(serializeModelProto(model));
    for (const text of texts) expect(tokenizer.decode(tokenizer.encode(text, { addSpecialTokens: false }))).toBe(text);
  });

  it("writes tokenizer.model, tokenizer.json and tokenizer_config.json that load and agree", async () => {
    const files = await writeTokenizerFiles({ dir, model, chatTemplate: "{{ messages[0].content }}" });
    expect(
      parseModelProto(new Uint8Array(await import("node:fs").then((fs) => fs.readFileSync(files.tokenizerModel))))
        .pieces,
    ).toHaveLength(800);
    const fromJson = await loadTokenizer(dir);
    const fromModel = await loadTokenizer(dir, { prefer: "tokenizer.model" });
    expect(fromJson.chatTemplate).toBe("{{ messages[0].content }}");
    expect(fromJson.applyChatTemplate([{ role: "user", content: "hi" }])).toBe("hi");
    for (const text of texts) {
      // The two files only differ where the tokenizers library does (leading spaces, literal <s>).
      if (text.startsWith(" ") || /<\/?s>|<unk>/.test(text)) continue;
      expect(fromJson.encode(text)).toEqual(fromModel.encode(text));
    }
    // A leading space shows which file was used.
    expect(fromJson.encode(" a")).not.toEqual(fromModel.encode(" a"));
  });

  it("rejects a vocabulary too small for its special and byte pieces", () => {
    expect(() => trainBpe(corpus, { vocabSize: 100 })).toThrowError(/vocabSize must be an integer above 259/);
  });
});
