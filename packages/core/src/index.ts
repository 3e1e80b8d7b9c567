export {
  LlamatsError,
  FormatError,
  SafetensorsError,
  ConfigError,
  ShapeMismatchError,
  HubError,
  BackendUnavailableError,
  ValidationError,
} from './errors.js';
export type { LlamatsErrorOptions } from './errors.js';
export { writeFileAtomic, tempPathFor } from './atomic-write.js';
export { openSafetensors } from './safetensors/reader.js';
export type { SafetensorsReader, TensorInfo, LoadedTensor } from './safetensors/reader.js';
export { writeSafetensors, serializeSafetensors } from './safetensors/writer.js';
export type { TensorToWrite } from './safetensors/writer.js';
export { DTYPE_BYTES, halfToFloat, floatToHalf, bytesToFloat32 } from './safetensors/dtypes.js';
export type { SafetensorsDtype, TensorData } from './safetensors/dtypes.js';
export { MAX_HEADER_BYTES } from './safetensors/header.js';
export { initBackend, registerGradients, BACKEND_CHOICES } from './backend.js';
export type { BackendChoice, BackendName, BackendInfo, InitBackendOptions } from './backend.js';
