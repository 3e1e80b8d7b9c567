import { ValidationError } from "@llamats/core";
import { formatLocation, type InvalidRecordReport } from "./records.js";

const LISTED = 20;

/** One line per invalid record: "data.jsonl:12 (output): "output" is missing". */
export function formatInvalidReport(report: InvalidRecordReport): string {
  return `${formatLocation(report)}${report.field ? ` (${report.field})` : ""}: ${report.message}`;
}

/** Thrown when a dataset has invalid records and `skipInvalid` is off; `reports` lists every one. */
export class InvalidDatasetError extends ValidationError {
  readonly reports: InvalidRecordReport[];
  readonly validCount: number;
  constructor(reports: InvalidRecordReport[], validCount: number) {
    const lines = reports.slice(0, LISTED).map((r) => `  ${formatInvalidReport(r)}`);
    if (reports.length > LISTED) lines.push(`  … and ${reports.length - LISTED} more`);
    super(
      `${reports.length} invalid record(s) (${validCount} valid); fix them or pass skipInvalid (--skip-invalid) to train on the valid ones:\n${lines.join("\n")}`,
      { location: reports[0] ? formatLocation(reports[0]) : undefined },
    );
    this.name = "InvalidDatasetError";
    this.reports = reports;
    this.validCount = validCount;
  }
}
