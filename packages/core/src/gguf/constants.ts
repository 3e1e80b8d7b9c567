// GGUF v3 constants, as llama.cpp's gguf-py defines them (gguf/constants.py): the file magic, value types, tensor types.

/** "GGUF" read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;
export const GGUF_VERSION = 3;
/** The alignment llama.cpp assumes when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata value types (GGUFValueType). */
export const GGUF_VALUE_TYPE = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

/** The tensor types this writer stores, with their ggml type ids (GGMLQuantizationType). */
export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q8_0: 8,
} as const;

export type GgmlTensorType = keyof typeof GGML_TYPE;
