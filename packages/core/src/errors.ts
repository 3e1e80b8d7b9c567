// Error classes shared by every @llamats package. `isInstance` works across duplicate installs
// (two copies of this package in one process), where `instanceof` would not.

const ROOT_MARKER = Symbol.for("llamats.error");

function markerFor(name: string): symbol {
  return Symbol.for(`llamats.error.${name}`);
}

export interface LlamatsErrorOptions {
  cause?: unknown;
}

/** Base class: every error thrown on purpose by llamats is one of these. */
export class LlamatsError extends Error {
  readonly [ROOT_MARKER] = true;

  constructor(message: string, options: LlamatsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LlamatsError";
    (this as unknown as Record<symbol, boolean>)[markerFor(new.target.name)] = true;
    // Every ancestor class is marked too, so `FormatError.isInstance(new SafetensorsError(...))` holds.
    let proto = Object.getPrototypeOf(new.target) as { name?: string } | null;
    while (proto && proto.name && proto !== Error) {
      (this as unknown as Record<symbol, boolean>)[markerFor(proto.name)] = true;
      proto = Object.getPrototypeOf(proto) as { name?: string } | null;
    }
  }

  /** True for an error of this class (or a subclass), even from another copy of the package. */
  static isInstance(error: unknown): boolean {
    if (error == null || typeof error !== "object") return false;
    if (this === LlamatsError) return (error as Record<symbol, unknown>)[ROOT_MARKER] === true;
    return (error as Record<symbol, unknown>)[markerFor(this.name)] === true;
  }
}

/** A file whose contents are not what its format requires (safetensors, tokenizer, config, data). */
export class FormatError extends LlamatsError {
  readonly file: string | undefined;
  constructor(message: string, options: LlamatsErrorOptions & { file?: string } = {}) {
    super(message, options);
    this.name = "FormatError";
    this.file = options.file;
  }
}

/** A safetensors file that cannot be read: names the file and, where known, the tensor. */
export class SafetensorsError extends FormatError {
  readonly tensor: string | undefined;
  constructor(message: string, options: LlamatsErrorOptions & { file?: string; tensor?: string } = {}) {
    super(message, options);
    this.name = "SafetensorsError";
    this.tensor = options.tensor;
  }
}

/** A configuration value that is missing, invalid or unsupported: names the key. */
export class ConfigError extends LlamatsError {
  readonly key: string | undefined;
  constructor(message: string, options: LlamatsErrorOptions & { key?: string } = {}) {
    super(message, options);
    this.name = "ConfigError";
    this.key = options.key;
  }
}

/** Tensors whose shapes do not fit together: names the tensor or module and both shapes. */
export class ShapeMismatchError extends LlamatsError {
  readonly tensor: string | undefined;
  readonly expected: readonly number[] | undefined;
  readonly found: readonly number[] | undefined;
  constructor(
    message: string,
    options: LlamatsErrorOptions & { tensor?: string; expected?: readonly number[]; found?: readonly number[] } = {},
  ) {
    super(message, options);
    this.name = "ShapeMismatchError";
    this.tensor = options.tensor;
    this.expected = options.expected;
    this.found = options.found;
  }
}

/** A failed request to the Hugging Face Hub (or a cache miss in offline mode). */
export class HubError extends LlamatsError {
  readonly statusCode: number | undefined;
  readonly url: string | undefined;
  constructor(message: string, options: LlamatsErrorOptions & { statusCode?: number; url?: string } = {}) {
    super(message, options);
    this.name = "HubError";
    this.statusCode = options.statusCode;
    this.url = options.url;
  }
}

/** A tensor backend that was asked for by name but cannot run here; `hint` says what to install. */
export class BackendUnavailableError extends LlamatsError {
  readonly backend: string;
  readonly hint: string;
  constructor(message: string, options: LlamatsErrorOptions & { backend: string; hint: string }) {
    super(message, options);
    this.name = "BackendUnavailableError";
    this.backend = options.backend;
    this.hint = options.hint;
  }
}

/** A model (or tensor) bigger than the active backend can hold: names the size, the limit and the way out. */
export class ResourceLimitError extends LlamatsError {
  readonly bytes: number;
  readonly limit: number;
  readonly backend: string;
  constructor(message: string, options: LlamatsErrorOptions & { bytes: number; limit: number; backend: string }) {
    super(message, options);
    this.name = "ResourceLimitError";
    this.bytes = options.bytes;
    this.limit = options.limit;
    this.backend = options.backend;
  }
}

/** Input data (a dataset record, a request) that fails validation: names where and what. */
export class ValidationError extends LlamatsError {
  readonly location: string | undefined;
  constructor(message: string, options: LlamatsErrorOptions & { location?: string } = {}) {
    super(message, options);
    this.name = "ValidationError";
    this.location = options.location;
  }
}
