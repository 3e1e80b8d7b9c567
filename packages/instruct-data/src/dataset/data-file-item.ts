import type { RawRecord } from "./read-raw-records.js";
import type { InvalidRecordReport } from "./records.js";

/** What a data file reader yields: a raw record with its location, or a record that could not be read at all. */
export type DataFileItem = RawRecord | { invalid: InvalidRecordReport };
