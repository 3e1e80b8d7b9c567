/**
 * A decoded Parquet value as JSON would give it: INT64 (bigint) becomes a number when it fits exactly,
 * typed arrays become arrays, lists and structs are converted throughout. Other values stay as they are.
 */
export function plainParquetValue(value: unknown): unknown {
  if (typeof value === "bigint")
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(plainParquetValue);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView) && !(value instanceof Uint8Array)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, plainParquetValue);
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = plainParquetValue(v);
    return out;
  }
  return value;
}
