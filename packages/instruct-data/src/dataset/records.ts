/** One turn of a conversation, as in OpenAI / HF chat datasets. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** Alpaca's record: an instruction, an optional input that gives context, and the expected output. */
export interface AlpacaRecord {
  instruction: string;
  input: string;
  output: string;
}

/** A conversation; assistant turns are the training targets. */
export interface ChatRecord {
  messages: ChatMessage[];
}

/** Already tokenized; `labels` defaults to `input_ids` (every token trained). */
export interface TokenizedRecord {
  input_ids: number[];
  labels?: number[];
}

export type InstructionRecord = AlpacaRecord | ChatRecord | TokenizedRecord;

export type DatasetFormat = "alpaca" | "jsonl" | "koalpaca" | "chat" | "tokenized";

/**
 * Where a record came from: JSONL and CSV/TSV files have lines (1-based; a CSV record's first line),
 * JSON arrays have indices (0-based), Parquet files have rows (0-based, across row groups).
 */
export interface RecordLocation {
  file: string;
  line?: number;
  index?: number;
  row?: number;
}

/** A record that failed validation: where it is, which field, and what was wrong. */
export interface InvalidRecordReport extends RecordLocation {
  /** The field at fault (`instruction`, `messages[2].content` …); absent when the whole record is unusable. */
  field?: string;
  message: string;
}

export function isChatRecord(record: InstructionRecord): record is ChatRecord {
  return "messages" in record;
}

export function isTokenizedRecord(record: InstructionRecord): record is TokenizedRecord {
  return "input_ids" in record;
}

export function isAlpacaRecord(record: InstructionRecord): record is AlpacaRecord {
  return "instruction" in record;
}

/** "data.jsonl:12", "data.json[3]" or "train.parquet[row 7]", for messages a person reads. */
export function formatLocation(location: RecordLocation): string {
  if (location.line !== undefined) return `${location.file}:${location.line}`;
  if (location.index !== undefined) return `${location.file}[${location.index}]`;
  if (location.row !== undefined) return `${location.file}[row ${location.row}]`;
  return location.file;
}
