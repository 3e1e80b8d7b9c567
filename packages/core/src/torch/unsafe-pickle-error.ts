import { FormatError, type LlamatsErrorOptions } from "../errors.js";

/** A pickle that names a global outside the allowlist (it may try to run code): refused at that opcode, nothing after it read. */
export class UnsafePickleError extends FormatError {
  /** The refused global as `module.name`, e.g. `os.system`. */
  readonly global: string;
  /** Byte offset of the refused opcode in the pickle. */
  readonly offset: number;
  constructor(message: string, options: LlamatsErrorOptions & { file: string; global: string; offset: number }) {
    super(message, options);
    this.name = "UnsafePickleError";
    this.global = options.global;
    this.offset = options.offset;
  }
}
