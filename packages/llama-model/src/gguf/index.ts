export { exportGguf, ggufTensors, ggufTensorType } from "./export-gguf.js";
export type { ExportGgufOptions, GgufExportableModel } from "./export-gguf.js";
export { GGUF_FILE_TYPES, modelMetadata, ropeFrequencyFactors } from "./model-metadata.js";
export type { GgufFileType } from "./model-metadata.js";
export { tokenizerMetadata, preTokenizerName } from "./tokenizer-metadata.js";
export { ggufTensorName } from "./tensor-names.js";
export { interleaveRotaryRows } from "./rotary-rows.js";
