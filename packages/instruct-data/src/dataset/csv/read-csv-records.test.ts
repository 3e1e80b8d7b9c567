import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FormatError } from "@llamats/core";
import { describe, expect, it } from "vitest";
import type { DataFileItem } from "../data-file-item.js";
import { readCsvRecords } from "./read-csv-records.js";

function tempFile(name: string, contents: string | Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), "llamats-csv-")), name);
  writeFileSync(path, contents);
  return path;
}

async function collect(items: AsyncIterable<DataFileItem>): Promise<DataFileItem[]> {
  const out: DataFileItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe("readCsvRecords", () => {
  it("keys records by the header, drops a BOM, reads \\r\\n files, and reports rows of the wrong width by line", async () => {
    const path = tempFile(
      "data.csv",
      '\uFEFFinstruction,input,output\r\n"Translate, please.",Hola,Hello\r\n"Two\r\nlines",,"안녕하세요"\r\nshort row,x\r\nLast.,,Done.\r\n',
    );
    expect(await collect(readCsvRecords(path))).toEqual([
      {
        value: { instruction: "Translate, please.", input: "Hola", output: "Hello" },
        location: { file: path, line: 2 },
      },
      { value: { instruction: "Two\r\nlines", input: "", output: "안녕하세요" }, location: { file: path, line: 3 } },
      {
        invalid: {
          file: path,
          line: 5,
          message: "expected 3 fields (as the header: instruction, input, output), found 2",
        },
      },
      { value: { instruction: "Last.", input: "", output: "Done." }, location: { file: path, line: 6 } },
    ]);
  });

  it("decodes UTF-8 split across read chunks", async () => {
    const long = "가".repeat(70_000);
    const path = tempFile("ko.tsv", `instruction\toutput\n${long}\t끝\n`);
    const items = await collect(readCsvRecords(path, { delimiter: "\t" }));
    expect(items).toEqual([{ value: { instruction: long, output: "끝" }, location: { file: path, line: 2 } }]);
  });

  it("a header naming a column twice is a FormatError", async () => {
    const path = tempFile("dup.csv", "instruction,output,output\na,b,c\n");
    await expect(collect(readCsvRecords(path))).rejects.toSatisfy(
      (e: unknown) =>
        FormatError.isInstance(e) && /dup\.csv:1: the header names column "output" twice/.test((e as Error).message),
    );
  });
});
