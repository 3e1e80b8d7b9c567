/** One CSV record: its fields and the (1-based) line it starts on. */
export interface CsvRow {
  line: number;
  fields: string[];
}

/** A record that cannot be split into fields (only an unclosed quote, at the end of the input). */
export interface CsvRowError {
  line: number;
  message: string;
}

type State = "fieldStart" | "unquoted" | "quoted" | "quoteInQuoted";

const CR = 13;
const LF = 10;
const QUOTE = 34;

/**
 * An incremental RFC 4180 parser: feed text in chunks of any size, get complete records back.
 * Quoted fields may hold delimiters, `""` (one quote) and line breaks (kept as written, `\r\n` included);
 * records end at `\n`, `\r\n` or `\r`; blank lines are skipped (as pandas does). Like Python's csv module
 * and pandas, a quote inside an unquoted field, or text after a closing quote, is kept as text.
 */
export class CsvParser {
  private readonly delimiter: number;
  private state: State = "fieldStart";
  private field = "";
  private fields: string[] = [];
  private line = 1;
  private rowLine = 1;
  private rowStarted = false;
  // The previous chunk ended with a record-ending \r: a \n that opens the next chunk belongs to it.
  private pendingCr = false;

  constructor(options: { delimiter?: string } = {}) {
    const delimiter = options.delimiter ?? ",";
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" || delimiter === "\r") {
      throw new RangeError(
        `CSV delimiter must be one character other than a quote or line break, found ${JSON.stringify(delimiter)}`,
      );
    }
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** Parses `chunk` and returns the records it completed. */
  push(chunk: string): CsvRow[] {
    const rows: CsvRow[] = [];
    const n = chunk.length;
    let i = 0;
    if (this.pendingCr && n > 0) {
      this.pendingCr = false;
      if (chunk.charCodeAt(0) === LF) i = 1;
    }
    while (i < n) {
      const c = chunk.charCodeAt(i);
      switch (this.state) {
        case "fieldStart":
          if (c === QUOTE) {
            this.rowStarted = true;
            this.state = "quoted";
            i++;
          } else if (c === this.delimiter) {
            this.rowStarted = true;
            this.fields.push("");
            i++;
          } else if (c === CR || c === LF) {
            i = this.endRecord(chunk, i, rows);
          } else {
            this.rowStarted = true;
            this.state = "unquoted";
          }
          break;
        case "unquoted": {
          // Take the run of plain characters at once.
          let j = i;
          while (j < n) {
            const d = chunk.charCodeAt(j);
            if (d === this.delimiter || d === CR || d === LF) break;
            j++;
          }
          this.field += chunk.slice(i, j);
          i = j;
          if (i < n) {
            if (chunk.charCodeAt(i) === this.delimiter) {
              this.fields.push(this.field);
              this.field = "";
              this.state = "fieldStart";
              i++;
            } else {
              i = this.endRecord(chunk, i, rows);
            }
          }
          break;
        }
        case "quoted": {
          const close = chunk.indexOf('"', i);
          const end = close === -1 ? n : close;
          const text = chunk.slice(i, end);
          this.field += text;
          for (let k = text.indexOf("\n"); k !== -1; k = text.indexOf("\n", k + 1)) this.line++;
          i = end;
          if (close !== -1) {
            this.state = "quoteInQuoted";
            i++;
          }
          break;
        }
        case "quoteInQuoted":
          if (c === QUOTE) {
            this.field += '"';
            this.state = "quoted";
            i++;
          } else if (c === this.delimiter) {
            this.fields.push(this.field);
            this.field = "";
            this.state = "fieldStart";
            i++;
          } else if (c === CR || c === LF) {
            i = this.endRecord(chunk, i, rows);
          } else {
            this.state = "unquoted";
          }
          break;
      }
    }
    return rows;
  }

  /** Ends the input: returns the last record, or an error when a quoted field was never closed. */
  end(): CsvRow | CsvRowError | null {
    if (this.state === "quoted") {
      return {
        line: this.rowLine,
        message: `a quoted field that starts on line ${this.rowLine} is not closed before the end of the file`,
      };
    }
    if (!this.rowStarted) return null;
    this.fields.push(this.field);
    const row = { line: this.rowLine, fields: this.fields };
    this.fields = [];
    this.field = "";
    this.rowStarted = false;
    this.state = "fieldStart";
    return row;
  }

  // At a \r or \n outside quotes: emit the record (blank lines emit nothing) and step past the line break.
  private endRecord(chunk: string, i: number, rows: CsvRow[]): number {
    if (this.rowStarted) {
      this.fields.push(this.field);
      rows.push({ line: this.rowLine, fields: this.fields });
    }
    this.fields = [];
    this.field = "";
    this.rowStarted = false;
    this.state = "fieldStart";
    this.line++;
    this.rowLine = this.line;
    if (chunk.charCodeAt(i) === CR) {
      if (i + 1 < chunk.length) return chunk.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      this.pendingCr = true;
    }
    return i + 1;
  }
}

/** Parses a whole CSV text (for small inputs and tests); an unclosed quote is returned as the last item. */
export function parseCsv(text: string, options: { delimiter?: string } = {}): (CsvRow | CsvRowError)[] {
  const parser = new CsvParser(options);
  const rows: (CsvRow | CsvRowError)[] = parser.push(text);
  const last = parser.end();
  if (last) rows.push(last);
  return rows;
}
