import { LlamatsError, type LlamatsErrorOptions } from "@llamats/core";

/** A teacher endpoint that refused a request for good (bad key, unknown model, bad URL) or kept failing. */
export class TeacherError extends LlamatsError {
  readonly statusCode: number | undefined;
  readonly url: string | undefined;
  constructor(message: string, options: LlamatsErrorOptions & { statusCode?: number; url?: string } = {}) {
    super(message, options);
    this.name = "TeacherError";
    this.statusCode = options.statusCode;
    this.url = options.url;
  }
}
