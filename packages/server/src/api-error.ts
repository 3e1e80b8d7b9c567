/** The `type` field of an OpenAI-style error body. */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "rate_limit_error"
  | "server_error"
  | "service_unavailable";

export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

/** An error answered to the client as-is: an HTTP status and an OpenAI-style body. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly type: ApiErrorType;
  readonly param: string | null;
  readonly code: string | null;
  /** Extra response headers, e.g. `Retry-After` on 429. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    message: string,
    options: {
      statusCode: number;
      type: ApiErrorType;
      param?: string | null;
      code?: string | null;
      headers?: Record<string, string>;
    },
  ) {
    super(message);
    this.name = "ApiError";
    this.statusCode = options.statusCode;
    this.type = options.type;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  toBody(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  static invalidRequest(message: string, options: { param?: string | null; code?: string | null } = {}): ApiError {
    return new ApiError(message, { statusCode: 400, type: "invalid_request_error", ...options });
  }
}
