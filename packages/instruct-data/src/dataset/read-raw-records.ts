import { FormatError } from "@llamats/core";
import { jsonErrorOffset } from "../util/json-error-position.js";
import type { InvalidRecordReport, RecordLocation } from "./records.js";

/** A parsed JSON value with where it was found. */
export interface RawRecord {
  value: unknown;
  location: RecordLocation;
}

export interface RawRecords {
  records: RawRecord[];
  /** JSONL lines that are not JSON: reported, never fatal. */
  unparsable: InvalidRecordReport[];
  layout: "json" | "jsonl";
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return `line ${line}, column ${column}`;
}

function readJsonl(text: string, file: string): RawRecords {
  const records: RawRecord[] = [];
  const unparsable: InvalidRecordReport[] = [];
  const lines = text.split("\n");
  lines.forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === "") return;
    try {
      records.push({ value: JSON.parse(line), location: { file, line: i + 1 } });
    } catch (error) {
      unparsable.push({ file, line: i + 1, message: `not valid JSON (${(error as Error).message})` });
    }
  });
  return { records, unparsable, layout: "jsonl" };
}

// A top-level object that wraps the records, as some exports do: {"data": [...]} or {"train": [...]}.
function unwrapRecordArray(parsed: unknown): unknown[] | null {
  if (Array.isArray(parsed)) return parsed as unknown[];
  if (typeof parsed === "object" && parsed !== null) {
    for (const key of ["data", "train", "records", "examples"]) {
      const value = (parsed as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as unknown[];
    }
  }
  return null;
}

/**
 * Splits a dataset file's text into raw records: a JSON array (or an object wrapping one) by index,
 * otherwise JSON Lines by line. A file with `.jsonl` in its name is always read as lines.
 */
export function readRawRecords(text: string, file: string): RawRecords {
  const body = text.replace(/^\uFEFF/, "");
  if (/\.jsonl(\.|$)/i.test(file) || /\.ndjson$/i.test(file)) return readJsonl(body, file);
  const trimmed = body.trimStart();
  if (trimmed === "") return { records: [], unparsable: [], layout: "json" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    // Not one JSON document: JSON Lines under a .json name is common, so read it that way if it starts like an object.
    if (trimmed.startsWith("{")) return readJsonl(body, file);
    const offset = jsonErrorOffset(body);
    const where = offset !== null ? ` at ${lineAndColumn(body, offset)}` : "";
    throw new FormatError(
      `${file}: not valid JSON${where}: ${(error as Error).message}. Expected a JSON array of records or JSON Lines.`,
      { file, cause: error },
    );
  }
  const array = unwrapRecordArray(parsed);
  if (array === null) {
    // A single JSON object is a one-record file.
    return { records: [{ value: parsed, location: { file, index: 0 } }], unparsable: [], layout: "json" };
  }
  return {
    records: array.map((value, index) => ({ value, location: { file, index } })),
    unparsable: [],
    layout: "json",
  };
}
