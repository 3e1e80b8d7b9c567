import { describe, expect, it } from "vitest";
import { FormatError } from "@llamats/core";
import { readFixtureBytes, readFixtureJson, type SentencePieceCase } from "../testing/fixtures.js";
import { parseModelProto, serializeModelProto } from "./model-proto.js";
import { SentencePieceTokenizer } from "./sentencepiece-tokenizer.js";

const modelBytes = readFixtureBytes("tokenizer-sp", "tokenizer.model");
const cases = readFixtureJson<SentencePieceCase[]>("tokenizer-sp", "cases.json");
const tokenizer = SentencePieceTokenizer.fromModelProto(modelBytes, { source: "tokenizer-sp/tokenizer.model" });

describe("SentencePieceTokenizer on the tokenizer-sp fixture", () => {
  it("reads LLaMA trainer and normalizer settings from the ModelProto", () => {
    const model = parseModelProto(modelBytes);
    expect(model.trainerSpec).toMatchObject({
      modelType: "bpe",
      byteFallback: true,
      splitDigits: true,
      vocabSize: 2000,
    });
    expect(model.normalizerSpec).toMatchObject({
      name: "identity",
      addDummyPrefix: true,
      removeExtraWhitespaces: false,
    });
    expect(model.pieces.slice(0, 4).map((p) => p.type)).toEqual(["unknown", "control", "control", "byte"]);
  });

  it.each(cases.map((c, i) => [i, c] as const))("case %i encodes to SentencePiece ids and pieces", (_i, c) => {
    const ids = tokenizer.encode(c.text, { addSpecialTokens: false });
    expect(ids).toEqual(c.ids);
    expect(ids.map((id) => tokenizer.idToToken(id))).toEqual(c.pieces);
  });

  it("decodes every case as SentencePiece does", () => {
    for (const c of cases) expect(tokenizer.decode(c.ids)).toBe(c.decoded);
  });

  it("adds BOS by default, like transformers, and no EOS", () => {
    const c = cases[0]!;
    expect(tokenizer.encode(c.text)).toEqual([1, ...c.ids]);
    expect(tokenizer.bosTokenId).toBe(1);
    expect(tokenizer.eosTokenId).toBe(2);
    expect(tokenizer.vocabSize).toBe(2000);
  });

  it("drops control tokens only when asked to skip special tokens", () => {
    const ids = [1, ...cases[0]!.ids, 2];
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe(cases[0]!.decoded);
    expect(tokenizer.decode(ids)).toBe(`<s> ${cases[0]!.decoded}</s>`);
  });

  it("turns an incomplete byte sequence into U+FFFD per byte, as SentencePiece does", () => {
    const e2 = tokenizer.tokenToId("<0xE2>")!;
    const x82 = tokenizer.tokenToId("<0x82>")!;
    expect(tokenizer.decode([e2, x82])).toBe("\uFFFD\uFFFD");
  });

  it("encodes the empty string to nothing", () => {
    expect(tokenizer.encode("", { addSpecialTokens: false })).toEqual([]);
  });

  it("round-trips the ModelProto through the writer", () => {
    const again = SentencePieceTokenizer.fromModelProto(serializeModelProto(parseModelProto(modelBytes)));
    for (const c of cases) expect(again.encode(c.text, { addSpecialTokens: false })).toEqual(c.ids);
  });
});

describe("bad tokenizer.model input", () => {
  it("names the file when the protobuf is truncated", () => {
    const truncated = modelBytes.subarray(0, 1000);
    expect(() => SentencePieceTokenizer.fromModelProto(truncated, { source: "models/x/tokenizer.model" })).toThrowError(
      /models\/x\/tokenizer\.model is not a valid SentencePiece model.*truncated/,
    );
    try {
      SentencePieceTokenizer.fromModelProto(truncated, { source: "models/x/tokenizer.model" });
    } catch (error) {
      expect(FormatError.isInstance(error)).toBe(true);
      expect((error as FormatError).file).toBe("models/x/tokenizer.model");
    }
  });

  it("rejects text that is not a protobuf (a Git LFS pointer)", () => {
    const lfs = new TextEncoder().encode("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 499723\n");
    expect(() => SentencePieceTokenizer.fromModelProto(lfs, { source: "tokenizer.model" })).toThrowError(
      /not a valid SentencePiece model/,
    );
  });

  it("rejects an empty file", () => {
    expect(() => SentencePieceTokenizer.fromModelProto(new Uint8Array(0), { source: "empty.model" })).toThrowError(
      /empty\.model.*no pieces/,
    );
  });
});
