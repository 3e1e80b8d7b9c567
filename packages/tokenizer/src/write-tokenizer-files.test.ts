import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer } from "./load-tokenizer.js";
import { parseModelProto } from "./sentencepiece/model-proto.js";
import { fixturePath, readFixtureBytes } from "./testing/fixtures.js";
import { trainBpe } from "./train/train-bpe.js";
import { writeTokenizerFiles } from "./write-tokenizer-files.js";

const ENGLISH = [
  "The quick brown fox jumps over the lazy dog.",
  "A tokenizer splits text into pieces, and a model reads the pieces as ids.",
  "She sells sea shells by the sea shore, and the shells she sells are surely sea shells.",
  "In 2024 the team trained a small model on 12 books and 345 short stories.",
  "Peter Piper picked a peck of pickled peppers; how many pickled peppers did Peter Piper pick?",
];

describe("writeTokenizerFiles", () => {
  let root = "";
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "llamats-write-tok-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("writes the fixture model with the tokenizer.json transformers wrote, byte for byte", async () => {
    const bytes = readFixtureBytes("tokenizer-sp", "tokenizer.model");
    const model = parseModelProto(bytes);
    const files = await writeTokenizerFiles({ dir: join(root, "fixture"), model });
    expect(await readFile(files.tokenizerJson, "utf8")).toBe(
      readFileSync(fixturePath("tokenizer-sp-hf", "tokenizer.json"), "utf8"),
    );
    const written = parseModelProto(new Uint8Array(await readFile(files.tokenizerModel)));
    expect(written.pieces).toEqual(model.pieces);
    expect(written.normalizerSpec).toEqual(model.normalizerSpec);
  });

  it("writes a trained English model that loads by either file with the same ids", async () => {
    const dir = join(root, "trained");
    await writeTokenizerFiles({ dir, model: trainBpe(ENGLISH.join("\n"), { vocabSize: 400 }) });
    const fromJson = await loadTokenizer(dir);
    const fromModel = await loadTokenizer(dir, { prefer: "tokenizer.model" });
    // A leading space is encoded differently by the two files, so this shows each loader used its own file.
    expect(fromJson.encode(" a")).not.toEqual(fromModel.encode(" a"));
    for (const text of [...ENGLISH, "Unseen words: zebra, quixotic, 98765!", "the fox and the dog"]) {
      const ids = fromJson.encode(text);
      expect(ids).toEqual(fromModel.encode(text));
      expect(ids[0]).toBe(fromJson.bosTokenId);
      expect(fromJson.decode(ids, { skipSpecialTokens: true })).toBe(text);
      expect(fromModel.decode(ids, { skipSpecialTokens: true })).toBe(text);
    }
  });
});
