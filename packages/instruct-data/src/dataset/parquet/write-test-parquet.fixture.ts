// Test helper: Parquet files written by arrow-rs (parquet-wasm), a producer independent of the reader (hyparquet).
import {
  Field,
  Int64,
  List,
  Struct,
  Table,
  Utf8,
  tableToIPC,
  vectorFromArray,
  type DataType,
  type Vector,
} from "apache-arrow";
import {
  Compression,
  Encoding,
  Table as WasmTable,
  WriterPropertiesBuilder,
  WriterVersion,
  writeParquet,
} from "parquet-wasm/node";

export type TestCodec = "UNCOMPRESSED" | "SNAPPY" | "GZIP" | "BROTLI" | "LZ4_RAW" | "ZSTD";

export interface TestParquetOptions {
  compression?: TestCodec;
  /** Rows per row group. */
  rowGroupSize?: number;
  /** Data page format: v1 (the default of most writers) or v2. */
  pageVersion?: 1 | 2;
  dictionary?: boolean;
  /** String encoding when the dictionary is off (DuckDB and Spark write the DELTA ones for v2 pages). */
  encoding?: "PLAIN" | "DELTA_LENGTH_BYTE_ARRAY" | "DELTA_BYTE_ARRAY";
}

export type TestColumn =
  | { type: "string"; values: (string | null)[] }
  | { type: "int64-list"; values: (number[] | null)[] }
  | { type: "messages"; values: ({ role: string; content: string }[] | null)[] };

function arrowVector(column: TestColumn): Vector {
  let type: DataType;
  if (column.type === "string") type = new Utf8();
  else if (column.type === "int64-list") type = new List(new Field("item", new Int64(), true));
  else
    type = new List(
      new Field(
        "item",
        new Struct([new Field("role", new Utf8(), true), new Field("content", new Utf8(), true)]),
        true,
      ),
    );
  const values = column.type === "int64-list" ? column.values.map((v) => (v ? v.map(BigInt) : null)) : column.values;
  return vectorFromArray(values as never, type);
}

/** The bytes of a Parquet file with these columns, written with these settings. */
export function writeTestParquet(columns: Record<string, TestColumn>, options: TestParquetOptions = {}): Uint8Array {
  const table = new Table(
    Object.fromEntries(Object.entries(columns).map(([name, column]) => [name, arrowVector(column)])),
  );
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression[options.compression ?? "SNAPPY"])
    .setMaxRowGroupSize(options.rowGroupSize ?? 1024)
    .setWriterVersion(options.pageVersion === 2 ? WriterVersion.V2 : WriterVersion.V1)
    .setDictionaryEnabled(options.dictionary ?? true)
    .setEncoding(Encoding[options.encoding ?? "PLAIN"]);
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, "stream")), props.build());
}

/** Alpaca columns from records whose fields may be null. */
export function alpacaColumns(
  records: { instruction: string | null; input: string | null; output: string | null }[],
): Record<string, TestColumn> {
  return {
    instruction: { type: "string", values: records.map((r) => r.instruction) },
    input: { type: "string", values: records.map((r) => r.input) },
    output: { type: "string", values: records.map((r) => r.output) },
  };
}
