import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FormatError } from "@llamats/core";
import { parquetMetadata, type AsyncBuffer } from "hyparquet";
import { describe, expect, it } from "vitest";
import type { DataFileItem } from "../data-file-item.js";
import { readParquetRecords } from "./read-parquet-records.js";
import {
  alpacaColumns,
  writeTestParquet,
  type TestCodec,
  type TestParquetOptions,
} from "./write-test-parquet.fixture.js";

const FIXTURES = fileURLToPath(new URL("../../../test-fixtures/parquet/", import.meta.url));
const EXPECTED = JSON.parse(readFileSync(join(FIXTURES, "expected.json"), "utf8")) as {
  instruction: string;
  input: string;
  output: string;
}[];

function tempFile(name: string, contents: Uint8Array | string): string {
  const path = join(mkdtempSync(join(tmpdir(), "llamats-parquet-")), name);
  writeFileSync(path, contents);
  return path;
}

async function collect(items: AsyncIterable<DataFileItem>): Promise<DataFileItem[]> {
  const out: DataFileItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const valuesOf = (items: DataFileItem[]) => items.map((item) => ("value" in item ? item.value : item));

// Korean, empty strings and nulls in every column, over several row groups.
const MIXED = Array.from({ length: 23 }, (_, i) => ({
  instruction: i === 4 ? null : `지시 ${i}: 다음 문장을 요약하세요.`,
  input: i % 3 === 0 ? null : i % 3 === 1 ? "" : `맥락 ${i} — «quoted» "text"\nline 2`,
  output: i === 9 ? null : `답변 ${i} ✓`,
}));

describe("readParquetRecords", () => {
  it.each(["train-snappy.parquet", "train-zstd.parquet"])(
    "reads the DuckDB fixture %s to exactly expected.json",
    async (name) => {
      const items = await collect(readParquetRecords(join(FIXTURES, name)));
      expect(valuesOf(items)).toEqual(EXPECTED);
      expect(items.map((item) => ("location" in item ? item.location.row : -1))).toEqual(EXPECTED.map((_, i) => i));
    },
  );

  it.each<[TestCodec, 1 | 2, boolean, TestParquetOptions["encoding"]]>([
    ["UNCOMPRESSED", 1, true, "PLAIN"],
    ["SNAPPY", 2, true, "PLAIN"],
    ["GZIP", 1, false, "PLAIN"],
    ["GZIP", 2, true, "PLAIN"],
    ["ZSTD", 1, false, "PLAIN"],
    ["ZSTD", 2, false, "DELTA_BYTE_ARRAY"],
    ["BROTLI", 1, true, "PLAIN"],
    ["LZ4_RAW", 2, false, "DELTA_LENGTH_BYTE_ARRAY"],
  ])(
    "reads arrow-rs files: %s, data page v%d, dictionary %s, %s, row groups of 5, nulls, Korean",
    async (compression, pageVersion, dictionary, encoding) => {
      const bytes = writeTestParquet(alpacaColumns(MIXED), {
        compression,
        pageVersion,
        dictionary,
        encoding,
        rowGroupSize: 5,
      });
      expect(
        parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
          .row_groups,
      ).toHaveLength(5);
      const path = tempFile("mixed.parquet", bytes);
      const items = await collect(readParquetRecords(path));
      expect(valuesOf(items)).toEqual(MIXED);
      expect(items.map((item) => ("location" in item ? item.location : null))).toEqual(
        MIXED.map((_, row) => ({ file: path, row })),
      );
    },
  );

  it("reads lists and structs: chat messages and pre-tokenized ids (INT64 as numbers)", async () => {
    const bytes = writeTestParquet({
      messages: {
        type: "messages",
        values: [
          [
            { role: "user", content: "안녕?" },
            { role: "assistant", content: "안녕하세요!" },
          ],
          null,
        ],
      },
      input_ids: {
        type: "int64-list",
        values: [
          [1, 306, 2],
          [1, 5],
        ],
      },
    });
    const items = await collect(readParquetRecords(tempFile("chat.parquet", bytes)));
    expect(valuesOf(items)).toEqual([
      {
        messages: [
          { role: "user", content: "안녕?" },
          { role: "assistant", content: "안녕하세요!" },
        ],
        input_ids: [1, 306, 2],
      },
      { messages: null, input_ids: [1, 5] },
    ]);
  });

  it("reads only the record columns when the file has others", async () => {
    const bytes = writeTestParquet({ ...alpacaColumns(MIXED.slice(0, 2)), id: { type: "string", values: ["a", "b"] } });
    const items = await collect(readParquetRecords(tempFile("extra.parquet", bytes)));
    expect(Object.keys(valuesOf(items)[0] as object).sort()).toEqual(["input", "instruction", "output"]);
    const unknown = writeTestParquet({
      prompt: { type: "string", values: ["p"] },
      completion: { type: "string", values: ["c"] },
    });
    expect(valuesOf(await collect(readParquetRecords(tempFile("other.parquet", unknown))))).toEqual([
      { prompt: "p", completion: "c" },
    ]);
  });

  it("streams: the first row comes before any later row group is read", async () => {
    const bytes = writeTestParquet(alpacaColumns(MIXED), { rowGroupSize: 8, dictionary: false });
    const metadata = parquetMetadata(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
    const secondGroupStart = Math.min(
      ...(metadata.row_groups[1]?.columns ?? []).map((c) => Number(c.meta_data?.data_page_offset ?? Infinity)),
    );
    const slices: [number, number][] = [];
    const buffer: AsyncBuffer = {
      byteLength: bytes.byteLength,
      slice: (start, end = bytes.byteLength) => {
        slices.push([start, end]);
        return Promise.resolve(bytes.slice(start, end).buffer);
      },
    };
    const rows = readParquetRecords("in-memory.parquet", { buffer });
    const first = await rows.next();
    expect(first.value).toMatchObject({ location: { file: "in-memory.parquet", row: 0 } });
    // The first read is hyparquet's footer fetch (the file's last 512 KiB: all of this small file); then row group 0 only.
    expect(slices[0]).toEqual([0, bytes.byteLength]);
    expect(slices.length).toBeGreaterThan(1);
    expect(slices.slice(1).every(([, end]) => end <= secondGroupStart)).toBe(true);
    await rows.return(undefined);
  });

  it("a file that is not Parquet is a FormatError naming it", async () => {
    const path = tempFile("fake.parquet", '{"instruction": "json in disguise"}');
    await expect(collect(readParquetRecords(path))).rejects.toSatisfy(
      (e: unknown) =>
        FormatError.isInstance(e) &&
        (e as FormatError).file === path &&
        /fake\.parquet: not a readable Parquet file/.test((e as Error).message),
    );
  });
});
