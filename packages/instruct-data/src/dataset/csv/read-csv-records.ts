import { createReadStream } from "node:fs";
import { FormatError } from "@llamats/core";
import type { DataFileItem } from "../data-file-item.js";
import { CsvParser, type CsvRow, type CsvRowError } from "./csv-parser.js";

export interface ReadCsvRecordsOptions {
  /** `,` (default) or `\t` for TSV. */
  delimiter?: string;
  signal?: AbortSignal;
}

/**
 * Streams the records of a CSV/TSV file with a header row, as objects of strings keyed by the header
 * (UTF-8, a leading BOM dropped). A record whose field count differs from the header's is reported
 * by its line and skipped; the others are kept.
 */
export async function* readCsvRecords(
  file: string,
  options: ReadCsvRecordsOptions = {},
): AsyncGenerator<DataFileItem, void> {
  const parser = new CsvParser({ delimiter: options.delimiter });
  let header: string[] | null = null;
  let first = true;

  function* toItems(rows: Iterable<CsvRow | CsvRowError>): Generator<DataFileItem> {
    for (const row of rows) {
      if (!("fields" in row)) {
        yield { invalid: { file, line: row.line, message: row.message } };
        continue;
      }
      if (header === null) {
        header = row.fields;
        const seen = new Set<string>();
        for (const name of header) {
          if (seen.has(name))
            throw new FormatError(
              `${file}:${row.line}: the header names column "${name}" twice; expected unique column names`,
              { file },
            );
          seen.add(name);
        }
        continue;
      }
      if (row.fields.length !== header.length) {
        yield {
          invalid: {
            file,
            line: row.line,
            message: `expected ${header.length} fields (as the header: ${header.join(", ")}), found ${row.fields.length}`,
          },
        };
        continue;
      }
      const value: Record<string, string> = {};
      header.forEach((name, i) => {
        value[name] = row.fields[i] as string;
      });
      yield { value, location: { file, line: row.line } };
    }
  }

  const stream = createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 16 });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      options.signal?.throwIfAborted();
      let text = chunk;
      if (first) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      yield* toItems(parser.push(text));
    }
  } catch (error) {
    if (FormatError.isInstance(error) || options.signal?.aborted) throw error;
    throw new FormatError(`${file}: cannot read it (${(error as Error).message})`, { file, cause: error });
  } finally {
    stream.destroy();
  }
  const last = parser.end();
  if (last) yield* toItems([last]);
}
