// llama.cpp's tokenizer on our GGUF's vocabulary must give our ids (and the reference libraries' ids) for every case.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useBackend } from "@llamats/core/testing";
import { exportGguf } from "@llamats/llama-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BYTE_LEVEL_CASES, SENTENCEPIECE_CASES } from "./fixtures.js";
import { llamaCppTokenize } from "./llama-cpp.js";
import { MODEL_CASES } from "./models.js";

interface Case {
  text: string;
  ids: number[];
}

const readCases = async (path: string): Promise<Case[]> => JSON.parse(await readFile(path, "utf8")) as Case[];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llamats-interop-tok-"));
  await useBackend("wasm");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("llama.cpp tokenizes like llamats on the exported vocabulary", () => {
  it.each([
    ["SentencePiece (llama vocab, tokenizer-sp cases)", "llama1-tiny", SENTENCEPIECE_CASES],
    ["byte-level BPE (gpt2 vocab, llama-bpe pre-tokenizer, tokenizer-bytelevel cases)", "GQA", BYTE_LEVEL_CASES],
  ] as const)("%s", async (_label, modelName, casesFile) => {
    const modelCase = MODEL_CASES.find((c) => c.name.startsWith(modelName));
    if (!modelCase) throw new Error(`no model case named ${modelName}`);
    const { model, tokenizer } = await modelCase.load();
    const path = join(dir, `${modelName}.gguf`);
    try {
      await exportGguf(model, { path, tokenizer });
    } finally {
      model.dispose();
    }
    const cases = await readCases(casesFile);
    const theirs = await llamaCppTokenize(
      path,
      cases.map((c) => c.text),
    );
    cases.forEach((c, i) => {
      const ours = tokenizer.encode(c.text, { addSpecialTokens: false });
      expect(ours, `ours, case ${i}: ${JSON.stringify(c.text)}`).toEqual(c.ids);
      expect(theirs[i], `llama.cpp, case ${i}: ${JSON.stringify(c.text)}`).toEqual(ours);
    });
  });
});
