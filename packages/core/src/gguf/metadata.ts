// GGUF metadata values and their encoding: key (string), value type (uint32), value; arrays carry an item type and count.
import { ValidationError } from "../errors.js";
import { GGUF_VALUE_TYPE } from "./constants.js";
import type { ByteSink } from "./byte-sink.js";

type NumberType =
  "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "uint64" | "int64" | "float64";

/** One metadata value with its GGUF type (GGUF is typed: llama.cpp rejects a uint32 where it reads an int32). */
export type GgufValue =
  | { type: NumberType; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; itemType: NumberType; value: ArrayLike<number> }
  | { type: "array"; itemType: "string"; value: readonly string[] }
  | { type: "array"; itemType: "bool"; value: readonly boolean[] };

function checkNumber(key: string, type: NumberType, value: number): void {
  const ok =
    type === "float32" || type === "float64"
      ? typeof value === "number"
      : Number.isSafeInteger(value) && (!type.startsWith("uint") || value >= 0);
  if (!ok) throw new ValidationError(`GGUF metadata "${key}": ${value} is not a valid ${type}`, { location: key });
}

function writeNumber(sink: ByteSink, key: string, type: NumberType, value: number): void {
  checkNumber(key, type, value);
  switch (type) {
    case "uint8":
      return sink.u8(value);
    case "int8":
      return sink.i8(value);
    case "uint16":
      return sink.u16(value);
    case "int16":
      return sink.i16(value);
    case "uint32":
      return sink.u32(value);
    case "int32":
      return sink.i32(value);
    case "float32":
      return sink.f32(value);
    case "uint64":
      return sink.u64(value);
    case "int64":
      return sink.i64(value);
    case "float64":
      return sink.f64(value);
  }
}

/** Appends one key/value pair as GGUF v3 stores it. */
export function writeMetadataEntry(sink: ByteSink, key: string, value: GgufValue): void {
  if (key.length === 0) throw new ValidationError("GGUF metadata keys must not be empty", { location: "metadata" });
  sink.string(key);
  sink.u32(GGUF_VALUE_TYPE[value.type]);
  switch (value.type) {
    case "bool":
      return sink.u8(value.value ? 1 : 0);
    case "string":
      return sink.string(value.value);
    case "array": {
      sink.u32(GGUF_VALUE_TYPE[value.itemType]);
      sink.u64(value.value.length);
      if (value.itemType === "string") for (const s of value.value) sink.string(s);
      else if (value.itemType === "bool") for (const b of value.value) sink.u8(b ? 1 : 0);
      else {
        const items = value.value;
        for (let i = 0; i < items.length; i++) writeNumber(sink, key, value.itemType, items[i]);
      }
      return;
    }
    default:
      return writeNumber(sink, key, value.type, value.value);
  }
}
