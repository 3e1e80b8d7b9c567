import { readFile } from "node:fs/promises";
import { readCsvRecords } from "./csv/read-csv-records.js";
import type { DataFileItem } from "./data-file-item.js";
import { readParquetRecords } from "./parquet/read-parquet-records.js";
import { readRawRecords } from "./read-raw-records.js";

export type DataFileKind = "json" | "parquet" | "csv" | "tsv";

const KIND_OF_EXTENSION: Record<string, DataFileKind> = {
  json: "json",
  jsonl: "json",
  ndjson: "json",
  parquet: "parquet",
  csv: "csv",
  tsv: "tsv",
};

/** The reader a file name calls for, or null when its extension is not a data file's. */
export function dataFileKind(path: string): DataFileKind | null {
  const extension = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase();
  return extension !== undefined ? (KIND_OF_EXTENSION[extension] ?? null) : null;
}

function lineOrder(item: DataFileItem): number {
  const at = "invalid" in item ? item.invalid : item.location;
  return at.line ?? at.index ?? 0;
}

/**
 * Reads one dataset file by its extension: Parquet and CSV/TSV stream (a row group, a 64 KiB chunk at a time);
 * JSON and JSON Lines (and any other name) are read whole. Unreadable records come back as `{ invalid }`.
 */
export async function* readDataFile(
  file: string,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<DataFileItem> {
  const kind = dataFileKind(file) ?? "json";
  if (kind === "parquet") return yield* readParquetRecords(file, options);
  if (kind === "csv" || kind === "tsv")
    return yield* readCsvRecords(file, { ...options, delimiter: kind === "tsv" ? "\t" : "," });
  const raw = readRawRecords(await readFile(file, "utf8"), file);
  const items: DataFileItem[] = [...raw.records, ...raw.unparsable.map((invalid) => ({ invalid }))];
  // Reports in file order, the unparsable lines among the others.
  yield* items.sort((a, b) => lineOrder(a) - lineOrder(b));
}
