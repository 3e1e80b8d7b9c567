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
