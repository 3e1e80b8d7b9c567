import { FormatError } from "@llamats/core";
import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
  type AsyncBuffer,
  type FileMetaData,
} from "hyparquet";
import { compressors } from "hyparquet-compressors";
import type { DataFileItem } from "../data-file-item.js";
import { plainParquetValue } from "./plain-parquet-value.js";

export interface ReadParquetRecordsOptions {
  /** The file's bytes as ranges to read (hyparquet's AsyncBuffer), instead of opening `file`; `file` still names it in reports. */
  buffer?: AsyncBuffer;
  signal?: AbortSignal;
}

// The columns validateRecord reads; when a file has any of them, the others (images, embeddings …) are never decoded.
const RECORD_COLUMNS = new Set([
  "instruction",
  "input",
  "output",
  "text",
  "messages",
  "conversations",
  "instances",
  "input_ids",
  "labels",
]);

async function openParquet(
  file: string,
  given: AsyncBuffer | undefined,
): Promise<{ buffer: AsyncBuffer; metadata: FileMetaData }> {
  try {
    const buffer = given ?? (await asyncBufferFromFile(file));
    return { buffer, metadata: await parquetMetadataAsync(buffer) };
  } catch (error) {
    throw new FormatError(
      `${file}: not a readable Parquet file (${(error as Error).message}); expected Parquet's "PAR1" footer and metadata`,
      { file, cause: error },
    );
  }
}

/**
 * Streams the rows of a Parquet file as records, one row group at a time: only that row group's pages
 * are read and decoded, and its rows are yielded before the next is touched. Rows are located by their
 * 0-based index in the file. Compression: snappy, gzip, zstd, brotli, lz4 (hyparquet-compressors).
 */
export async function* readParquetRecords(
  file: string,
  options: ReadParquetRecordsOptions = {},
): AsyncGenerator<DataFileItem, void> {
  const { buffer, metadata } = await openParquet(file, options.buffer);
  const names = parquetSchema(metadata).children.map((c) => c.element.name);
  const known = names.filter((n) => RECORD_COLUMNS.has(n));
  // With none of the record columns, read all so the validation message lists what the file has.
  const columns = known.length > 0 ? known : undefined;
  let groupStart = 0;
  for (const [g, group] of metadata.row_groups.entries()) {
    options.signal?.throwIfAborted();
    const rowEnd = groupStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({
        file: buffer,
        metadata,
        columns,
        rowStart: groupStart,
        rowEnd,
        compressors,
        rowFormat: "object",
      });
    } catch (error) {
      throw new FormatError(
        `${file}: cannot decode row group ${g} (rows ${groupStart}–${rowEnd - 1}): ${(error as Error).message}`,
        { file, cause: error },
      );
    }
    if (rows.length !== rowEnd - groupStart) {
      throw new FormatError(
        `${file}: row group ${g} should hold ${rowEnd - groupStart} rows (its metadata), found ${rows.length}`,
        { file },
      );
    }
    for (const [i, row] of rows.entries())
      yield { value: plainParquetValue(row), location: { file, row: groupStart + i } };
    groupStart = rowEnd;
  }
}
