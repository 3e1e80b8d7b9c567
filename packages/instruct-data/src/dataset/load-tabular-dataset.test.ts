// Parquet and CSV/TSV datasets through loadInstructionDataset: local files and folders, splits, --data-files, and a
// Hub dataset repo laid out as tatsu-lab/alpaca is (served by core's mock Hub).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@llamats/core";
import { startMockHub, type MockHub } from "@llamats/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getTemplate } from "../templates/get-template.js";
import { tokenizeForTraining } from "../tokenize/tokenize-for-training.js";
import { loadTokenizer } from "@llamats/tokenizer";
import { InvalidDatasetError } from "./invalid-dataset-error.js";
import { loadInstructionDataset } from "./load-instruction-dataset.js";
import { alpacaColumns, writeTestParquet } from "./parquet/write-test-parquet.fixture.js";

const FIXTURES = fileURLToPath(new URL("../../test-fixtures/", import.meta.url));
const SNAPPY = join(FIXTURES, "parquet/train-snappy.parquet");
const ZSTD = join(FIXTURES, "parquet/train-zstd.parquet");
const EXPECTED = JSON.parse(readFileSync(join(FIXTURES, "parquet/expected.json"), "utf8")) as {
  instruction: string;
  input: string;
  output: string;
}[];
// The file name tatsu-lab/alpaca has on the Hub.
const ALPACA_HUB_FILE = "data/train-00000-of-00001-a09b74b3ef9c3b56.parquet";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "llamats-tabular-"));
}

function put(dir: string, path: string, contents: string | Uint8Array): string {
  const full = join(dir, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, contents);
  return full;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

describe("loadInstructionDataset: Parquet and CSV", () => {
  it("reads both DuckDB fixtures to exactly expected.json, as Alpaca records", async () => {
    for (const path of [SNAPPY, ZSTD]) {
      const loaded = await loadInstructionDataset({ path });
      expect(loaded).toEqual({ records: EXPECTED, invalid: [], format: "alpaca", files: [path] });
    }
  });

  it("reads the same records from Parquet, JSON, JSONL, CSV (\\r\\n, BOM) and TSV", async () => {
    const dir = tempDir();
    const json = put(dir, "alpaca.json", JSON.stringify(EXPECTED));
    const jsonl = put(dir, "alpaca.jsonl", EXPECTED.map((r) => JSON.stringify(r)).join("\n"));
    const csv = put(
      dir,
      "alpaca.csv",
      `\uFEFFinstruction,input,output\r\n${EXPECTED.map((r) => [r.instruction, r.input, r.output].map(csvField).join(",")).join("\r\n")}\r\n`,
    );
    const tsv = put(
      dir,
      "alpaca.tsv",
      `instruction\tinput\toutput\n${EXPECTED.map((r) => [r.instruction, r.input, r.output].map((t) => (/[\t"\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t)).join("\t")).join("\n")}\n`,
    );
    for (const path of [json, jsonl, csv, tsv])
      expect((await loadInstructionDataset({ path })).records, path).toEqual(EXPECTED);
  });

  it("tokenizes the Parquet set exactly as the JSON set (what `llamats data format` writes)", async () => {
    const tokenizer = await loadTokenizer(join(FIXTURES, "llama1-tiny/tokenizer.model"));
    const json = put(tempDir(), "expected-records.json", JSON.stringify(EXPECTED));
    const template = getTemplate("alpaca");
    const tokenized = async (path: string) =>
      (await loadInstructionDataset({ path })).records.map((r) =>
        tokenizeForTraining(r, { tokenizer, template, cutoffLen: 256 }),
      );
    const fromJson = await tokenized(json);
    expect(fromJson).toHaveLength(175);
    expect(await tokenized(SNAPPY)).toEqual(fromJson);
    expect(await tokenized(ZSTD)).toEqual(fromJson);
  });

  it('a null input reads as "" (Alpaca); a null instruction or output is a bad row named by file and row, the rest kept', async () => {
    const rows = [
      { instruction: "한국의 수도는?", input: null, output: "서울입니다." },
      { instruction: null, input: "", output: "orphan answer" },
      { instruction: "Say hi.", input: "politely", output: null },
      { instruction: "요약하세요.", input: "긴 글", output: "짧은 글" },
    ];
    const path = put(
      tempDir(),
      "nulls.parquet",
      writeTestParquet(alpacaColumns(rows), { compression: "GZIP", rowGroupSize: 3 }),
    );
    const error = await loadInstructionDataset({ path }).catch((e: unknown) => e);
    expect(InvalidDatasetError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`${path}[row 1] (instruction): "instruction" is null`);
    expect((error as Error).message).toContain(`${path}[row 2] (output): "output" is null`);
    const kept = await loadInstructionDataset({ path, skipInvalid: true });
    expect(kept.records).toEqual([
      { instruction: "한국의 수도는?", input: "", output: "서울입니다." },
      { instruction: "요약하세요.", input: "긴 글", output: "짧은 글" },
    ]);
    expect(kept.format).toBe("koalpaca");
    expect(kept.invalid).toEqual([
      { file: path, row: 1, field: "instruction", message: '"instruction" is null' },
      { file: path, row: 2, field: "output", message: '"output" is null' },
    ]);
  });

  it("a bad CSV row is reported by file and line, the others kept", async () => {
    const path = put(
      tempDir(),
      "bad.csv",
      'instruction,input,output\nGood.,,Yes.\n,,no instruction\n"Unclosed,,x\nmore\n',
    );
    const { records, invalid } = await loadInstructionDataset({ path, skipInvalid: true });
    expect(records).toEqual([{ instruction: "Good.", input: "", output: "Yes." }]);
    expect(invalid).toEqual([
      { file: path, line: 3, field: "instruction", message: '"instruction" is empty' },
      { file: path, line: 4, message: "a quoted field that starts on line 4 is not closed before the end of the file" },
    ]);
  });

  it("a folder: --split picks files by the Hub conventions, --data-files by glob", async () => {
    const dir = tempDir();
    cpSync(SNAPPY, join(dir, "data/train-00000-of-00001.parquet"));
    put(
      dir,
      "data/test-00000-of-00001.parquet",
      writeTestParquet(alpacaColumns([{ instruction: "Test me.", input: null, output: "ok" }])),
    );
    put(dir, "README.md", "# card");
    expect((await loadInstructionDataset({ path: dir })).records).toEqual(EXPECTED);
    expect((await loadInstructionDataset({ path: dir, split: "test" })).records).toEqual([
      { instruction: "Test me.", input: "", output: "ok" },
    ]);
    await expect(loadInstructionDataset({ path: dir, split: "validation" })).rejects.toThrow(
      /has no "validation" split: its splits are train, test/,
    );
    const both = await loadInstructionDataset({ path: dir, dataFiles: ["data/test-*", "data/train-*.parquet"] });
    expect(both.records).toHaveLength(176);
    expect(both.files).toEqual([
      join(dir, "data/test-00000-of-00001.parquet"),
      join(dir, "data/train-00000-of-00001.parquet"),
    ]);
    await expect(loadInstructionDataset({ path: dir, dataFiles: ["*.csv"] })).rejects.toSatisfy(
      (e: unknown) => ConfigError.isInstance(e) && /no file matching "\*\.csv"/.test((e as Error).message),
    );
    await expect(loadInstructionDataset({ path: dir, dataFiles: ["data/*"], split: "test" })).rejects.toThrow(
      /not both/,
    );
    await expect(loadInstructionDataset({ path: SNAPPY, split: "test" })).rejects.toThrow(
      /one file, which is the train split/,
    );
  });
});

describe("loadInstructionDataset: a Hub dataset repo (mock Hub)", () => {
  let hub: MockHub;
  let cacheDir: string;
  const hubOptions = () => ({ hubUrl: hub.url, cacheDir, accessToken: "", offline: false });

  beforeAll(async () => {
    hub = await startMockHub({
      repos: [
        {
          id: "tatsu-lab/alpaca",
          type: "dataset",
          files: {
            ".gitattributes": "*.parquet filter=lfs diff=lfs merge=lfs -text\n",
            "README.md": "---\nlicense: cc-by-nc-4.0\n---\n# Alpaca",
            [ALPACA_HUB_FILE]: readFileSync(SNAPPY),
          },
        },
        {
          id: "org/splits",
          type: "dataset",
          files: {
            "README.md": "# splits",
            "train.csv": "instruction,input,output\nTrain me.,,ok\n",
            "test.jsonl": '{"instruction": "Test me.", "output": "ok"}\n',
            "extra/notes.parquet": writeTestParquet(
              alpacaColumns([{ instruction: "Extra.", input: null, output: "x" }]),
            ),
          },
        },
      ],
    });
    cacheDir = tempDir();
  });
  afterAll(async () => {
    await hub.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("--data tatsu-lab/alpaca (the README command) reads its parquet train split into the Python cache layout", async () => {
    const loaded = await loadInstructionDataset({ repo: "tatsu-lab/alpaca", ...hubOptions() });
    expect(loaded.records).toEqual(EXPECTED);
    expect(loaded.format).toBe("alpaca");
    expect(loaded.files).toEqual([
      join(cacheDir, "datasets--tatsu-lab--alpaca", "snapshots", hub.commitOf("tatsu-lab/alpaca"), ALPACA_HUB_FILE),
    ]);
    // Offline, the cached snapshot serves the same split without a request.
    hub.requests.length = 0;
    const offline = await loadInstructionDataset({ repo: "tatsu-lab/alpaca", ...hubOptions(), offline: true });
    expect(offline.records).toEqual(EXPECTED);
    expect(hub.requests).toEqual([]);
  });

  it("downloads only the split asked for; a missing split names the ones there are", async () => {
    hub.requests.length = 0;
    const train = await loadInstructionDataset({ repo: "org/splits", ...hubOptions() });
    expect(train.records).toEqual([{ instruction: "Train me.", input: "", output: "ok" }]);
    expect(hub.contentRequests().map((r) => r.url.split("/").pop())).toEqual(["train.csv"]);
    const test = await loadInstructionDataset({ repo: "org/splits", split: "test", ...hubOptions() });
    expect(test.records).toEqual([{ instruction: "Test me.", input: "", output: "ok" }]);
    await expect(loadInstructionDataset({ repo: "org/splits", split: "validation", ...hubOptions() })).rejects.toThrow(
      'Dataset repo org/splits has no "validation" split: its splits are train, test. Choose one with --split, or name files with --data-files.',
    );
  });

  it("offline with nothing cached, the error is core's, saying what to download", async () => {
    const empty = tempDir();
    await expect(
      loadInstructionDataset({ repo: "org/splits", ...hubOptions(), cacheDir: empty, offline: true }),
    ).rejects.toThrow(/Offline mode .*llamats download org\/splits --repo-type dataset/);
  });

  it("--data-files takes repo paths and globs instead of a split", async () => {
    const loaded = await loadInstructionDataset({
      repo: "org/splits",
      dataFiles: ["extra/*.parquet", "test.jsonl"],
      ...hubOptions(),
    });
    expect(loaded.records.map((r) => ("instruction" in r ? r.instruction : ""))).toEqual(["Extra.", "Test me."]);
    await expect(
      loadInstructionDataset({ repo: "org/splits", dataFiles: ["nope/*.parquet"], ...hubOptions() }),
    ).rejects.toThrow(/No file of org\/splits .* matches nope\/\*\.parquet/);
  });
});
