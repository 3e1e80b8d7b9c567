export { writeGguf } from "./writer.js";
export type { GgufTensorSource, WriteGgufOptions } from "./writer.js";
export type { GgufValue } from "./metadata.js";
export { GGML_TYPE, GGUF_VALUE_TYPE, GGUF_DEFAULT_ALIGNMENT, GGUF_VERSION, GGUF_MAGIC } from "./constants.js";
export type { GgmlTensorType } from "./constants.js";
export { tensorByteSize } from "./tensor-encoding.js";
