export { openTorchCheckpoint } from "./torch-reader.js";
export type { TorchCheckpointReader } from "./torch-reader.js";
export { UnsafePickleError } from "./unsafe-pickle-error.js";
export { TORCH_ALLOWED_GLOBALS } from "./torch-pickle-policy.js";
