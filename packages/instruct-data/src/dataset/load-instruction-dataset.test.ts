import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FormatError, ValidationError } from "@llamats/core";
import { describe, expect, it } from "vitest";
import { InvalidDatasetError } from "./invalid-dataset-error.js";
import { loadInstructionDataset } from "./load-instruction-dataset.js";
import { splitTrainVal } from "./split-train-val.js";

const SEED_TASKS = fileURLToPath(new URL("../../test-fixtures/alpaca/seed_tasks.jsonl", import.meta.url));

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "llamats-data-"));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("loadInstructionDataset", () => {
  it("reads Alpaca JSON arrays, with input optional", async () => {
    const path = tempFile(
      "data.json",
      JSON.stringify([
        { instruction: "Give three tips.", input: "", output: "Eat, sleep, move." },
        { instruction: "Translate.", input: "Hola", output: "Hello" },
        { instruction: "No input field.", output: "Fine." },
      ]),
    );
    const { records, invalid, format } = await loadInstructionDataset({ path });
    expect(format).toBe("alpaca");
    expect(invalid).toEqual([]);
    expect(records).toEqual([
      { instruction: "Give three tips.", input: "", output: "Eat, sleep, move." },
      { instruction: "Translate.", input: "Hola", output: "Hello" },
      { instruction: "No input field.", input: "", output: "Fine." },
    ]);
  });

  it("reads self-instruct seed tasks (first instance) from the Stanford Alpaca fixture", async () => {
    const { records, format } = await loadInstructionDataset({ path: SEED_TASKS });
    expect(records).toHaveLength(175);
    expect(format).toBe("alpaca");
    expect(records[0]).toMatchObject({
      instruction: expect.stringMatching(/^Is there anything I can eat for a breakfast/) as unknown,
      input: "",
    });
  });

  it('reads KoAlpaca records and its "### 질문: … ### 답변: …" text form', async () => {
    const path = tempFile(
      "ko.jsonl",
      [
        JSON.stringify({ instruction: "한국의 수도는 어디인가요?", output: "서울입니다.", url: "https://example.com" }),
        JSON.stringify({ text: "### 질문: 김치는 무엇인가요?\n\n### 답변: 발효된 채소 요리입니다.<|endoftext|>" }),
        JSON.stringify({ text: "### 질문: 요약하세요.\n\n### 맥락: 긴 글\n\n### 답변: 짧은 글" }),
      ].join("\n"),
    );
    const { records, format } = await loadInstructionDataset({ path });
    expect(format).toBe("koalpaca");
    expect(records).toEqual([
      { instruction: "한국의 수도는 어디인가요?", input: "", output: "서울입니다." },
      { instruction: "김치는 무엇인가요?", input: "", output: "발효된 채소 요리입니다." },
      { instruction: "요약하세요.", input: "긴 글", output: "짧은 글" },
    ]);
  });

  it("reads chat messages (and ShareGPT conversations) and pre-tokenized records", async () => {
    const chat = tempFile(
      "chat.jsonl",
      [
        JSON.stringify({
          messages: [
            { role: "system", content: "Be brief." },
            { role: "user", content: "Hi" },
            { role: "assistant", content: "Hello!" },
          ],
        }),
        JSON.stringify({
          conversations: [
            { from: "human", value: "Hi" },
            { from: "gpt", value: "Hey" },
          ],
        }),
      ].join("\n"),
    );
    const loadedChat = await loadInstructionDataset({ path: chat });
    expect(loadedChat.format).toBe("chat");
    expect(loadedChat.records[1]).toEqual({
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hey" },
      ],
    });
    const tokenized = tempFile(
      "tok.jsonl",
      `${JSON.stringify({ input_ids: [1, 5, 6, 2], labels: [-100, -100, 6, 2] })}\n${JSON.stringify({ input_ids: [1, 7] })}\n`,
    );
    const loadedTok = await loadInstructionDataset({ path: tokenized, format: "tokenized" });
    expect(loadedTok.records).toEqual([{ input_ids: [1, 5, 6, 2], labels: [-100, -100, 6, 2] }, { input_ids: [1, 7] }]);
  });

  it("names the file, line and field of every invalid JSONL record and keeps every valid one", async () => {
    const path = tempFile(
      "mixed.jsonl",
      [
        JSON.stringify({ instruction: "Good one.", input: "", output: "Yes." }),
        '{"instruction": "broken json", ',
        JSON.stringify({ instruction: "Missing output." }),
        "",
        JSON.stringify({ instruction: 42, output: "x" }),
        JSON.stringify({ instruction: "Another good one.", output: "Sure." }),
        JSON.stringify(["not", "an", "object"]),
        JSON.stringify({ messages: [{ role: "user", content: "only a question" }] }),
      ].join("\n"),
    );
    const error = await loadInstructionDataset({ path }).catch((e: unknown) => e);
    expect(InvalidDatasetError.isInstance(error)).toBe(true);
    expect(ValidationError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain(`${path}:2: not valid JSON`);
    expect(message).toContain(`${path}:3 (output): "output" is missing`);
    expect(message).toContain(`${path}:5 (instruction): "instruction" must be a string, found a number`);
    expect(message).toContain(`${path}:7: a record must be a JSON object, found an array`);
    expect(message).toContain(`${path}:8 (messages): "messages" has no assistant message to train on`);
    expect((error as InvalidDatasetError).validCount).toBe(2);

    const skipped = await loadInstructionDataset({ path, skipInvalid: true });
    expect(skipped.records).toEqual([
      { instruction: "Good one.", input: "", output: "Yes." },
      { instruction: "Another good one.", input: "", output: "Sure." },
    ]);
    expect(skipped.invalid.map((r) => [r.line, r.field])).toEqual([
      [2, undefined],
      [3, "output"],
      [5, "instruction"],
      [7, undefined],
      [8, "messages"],
    ]);
  });

  it("reports JSON array records by index, and a format mismatch by its fields", async () => {
    const path = tempFile(
      "data.json",
      JSON.stringify([
        { instruction: "Fine.", output: "ok" },
        { prompt: "x", completion: "y" },
        { instruction: "  ", output: "z" },
      ]),
    );
    const { invalid, records } = await loadInstructionDataset({ path, skipInvalid: true });
    expect(records).toHaveLength(1);
    expect(invalid).toEqual([
      {
        file: path,
        index: 1,
        message:
          'expected "instruction"/"output", "messages", "text" or "input_ids" in a jsonl record, found fields: prompt, completion',
      },
      { file: path, index: 2, field: "instruction", message: '"instruction" is empty' },
    ]);
    const asChat = await loadInstructionDataset({ path, format: "chat", skipInvalid: true });
    expect(asChat.records).toEqual([]);
    expect(asChat.invalid[0]?.message).toMatch(/expected "messages" in a chat record/);
  });

  it("throws a FormatError naming the line of a JSON syntax error, and reads JSONL saved as .json", async () => {
    const broken = tempFile("bad.json", '[\n  {"instruction": "a", "output": "b"},\n  {"instruction": oops}\n]');
    await expect(loadInstructionDataset({ path: broken })).rejects.toSatisfy(
      (e: unknown) => FormatError.isInstance(e) && /bad\.json: not valid JSON at line 3/.test((e as Error).message),
    );
    const jsonl = tempFile("lines.json", '{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": "d"}\n');
    expect((await loadInstructionDataset({ path: jsonl })).records).toHaveLength(2);
  });

  it("reads every data file of a directory, and a Hub dataset repo through an injected resolver", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llamats-dir-"));
    writeFileSync(join(dir, "a.jsonl"), JSON.stringify({ instruction: "One.", output: "1" }));
    writeFileSync(join(dir, "b.json"), JSON.stringify([{ instruction: "Two.", output: "2" }]));
    mkdirSync(join(dir, "sub"));
    expect(
      (await loadInstructionDataset({ path: dir })).records.map((r) => ("instruction" in r ? r.instruction : "")),
    ).toEqual(["One.", "Two."]);

    writeFileSync(join(dir, "dataset_info.json"), '{"features": {}}');
    const asked: unknown[] = [];
    const fromHub = await loadInstructionDataset({
      repo: "someone/alpaca-mini",
      revision: "main",
      downloadRepo: (o) => {
        asked.push(o);
        return Promise.resolve({ path: dir, files: ["b.json", "a.jsonl", "dataset_info.json"] });
      },
    });
    expect(fromHub.records.map((r) => ("instruction" in r ? r.instruction : ""))).toEqual(["One.", "Two."]);
    // First the files that could be the train split by name; none is, so then every data file (all of them are train).
    expect(asked).toEqual([
      expect.objectContaining({
        repo: "someone/alpaca-mini",
        repoType: "dataset",
        revision: "main",
        include: expect.arrayContaining(["*train*.parquet", "*training*.json"]) as unknown,
      }),
      expect.objectContaining({ include: ["*.parquet", "*.json", "*.jsonl", "*.ndjson", "*.csv", "*.tsv"] }),
    ]);
    const oneFile = await loadInstructionDataset({
      repo: "someone/alpaca-mini",
      files: ["b.json"],
      resolveRepoFile: (o) => Promise.resolve(o.repoType === "dataset" ? join(dir, o.file) : null),
    });
    expect(oneFile.records).toHaveLength(1);
    await expect(
      loadInstructionDataset({
        repo: "someone/alpaca-mini",
        files: ["c.json"],
        resolveRepoFile: () => Promise.resolve(null),
      }),
    ).rejects.toThrow(/has no file c\.json/);
  });
});

describe("splitTrainVal", () => {
  const records = Array.from({ length: 100 }, (_, i) => i);

  it("takes a count or a fraction, is seeded, and loses nothing", () => {
    const a = splitTrainVal(records, { valSetSize: 10, seed: 1 });
    expect(a.val).toHaveLength(10);
    expect(a.train).toHaveLength(90);
    expect([...a.train, ...a.val].sort((x, y) => x - y)).toEqual(records);
    expect(splitTrainVal(records, { valSetSize: 10, seed: 1 })).toEqual(a);
    expect(splitTrainVal(records, { valSetSize: 10, seed: 2 }).val).not.toEqual(a.val);
    expect(splitTrainVal(records, { valSetSize: 0.25, seed: 1 }).val).toHaveLength(25);
    expect(splitTrainVal(records, { valSetSize: 0 })).toEqual({ train: records, val: [] });
    expect(() => splitTrainVal(records, { valSetSize: 100 })).toThrow(/leaves no training records/);
    expect(() => splitTrainVal(records, { valSetSize: 2.5 })).toThrow(/count or a fraction/);
  });
});
