import { LlamatsError, ValidationError } from "@llamats/core";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../api-error.js";
import { UnknownModelError } from "../engine/unknown-model-error.js";
import type { ServerLogger } from "./server-logger.js";

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Turns any error a request can raise into an OpenAI-style error; 5xx only for our own faults. */
function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (UnknownModelError.isInstance(error)) {
    const model = (error as UnknownModelError).model;
    return new ApiError(`The model '${model}' does not exist. GET /v1/models lists the ones served here.`, {
      statusCode: 404,
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    });
  }
  if (ValidationError.isInstance(error)) {
    return ApiError.invalidRequest((error as Error).message, { param: (error as ValidationError).location ?? null });
  }
  const fastifyError = error as Partial<FastifyError> & { validation?: AjvIssue[] };
  if (Array.isArray(fastifyError.validation) && fastifyError.validation.length > 0) {
    return validationToApiError(fastifyError.validation);
  }
  switch (fastifyError.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return ApiError.invalidRequest(`We could not parse the JSON body of your request: ${fastifyError.message}`, {
        code: "invalid_json",
      });
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return ApiError.invalidRequest("The request body is empty; send a JSON object.", { code: "invalid_json" });
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ApiError("The request body is larger than this server accepts.", {
        statusCode: 413,
        type: "invalid_request_error",
        code: "request_too_large",
      });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new ApiError("Send the request body as JSON with 'Content-Type: application/json'.", {
        statusCode: 415,
        type: "invalid_request_error",
        code: "unsupported_media_type",
      });
    default:
      break;
  }
  if (error instanceof SyntaxError) {
    return ApiError.invalidRequest(`We could not parse the JSON body of your request: ${error.message}`, {
      code: "invalid_json",
    });
  }
  const status = fastifyError.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new ApiError(fastifyError.message ?? "Bad request.", { statusCode: status, type: "invalid_request_error" });
  }
  const detail = LlamatsError.isInstance(error) ? ` ${(error as Error).message}` : "";
  return new ApiError(`The server had an error while processing your request.${detail}`, {
    statusCode: 500,
    type: "server_error",
  });
}

function validationToApiError(issues: AjvIssue[]): ApiError {
  const issue = issues[0];
  if (issue.keyword === "required") {
    const missing = typeof issue.params.missingProperty === "string" ? issue.params.missingProperty : "";
    const param = joinParam(pathToParam(issue.instancePath), missing);
    return ApiError.invalidRequest(`Missing required parameter: '${param}'.`, {
      param,
      code: "missing_required_parameter",
    });
  }
  const param = pathToParam(issue.instancePath);
  if (param === "") return ApiError.invalidRequest("The request body must be a JSON object.", { code: "invalid_type" });
  if (issue.keyword === "enum" && param.endsWith(".role")) {
    const allowed = (issue.params.allowedValues as unknown[] | undefined)?.join("', '") ?? "";
    return ApiError.invalidRequest(`Invalid value for '${param}': the role must be one of '${allowed}'.`, {
      param,
      code: "invalid_value",
    });
  }
  const code = issue.keyword === "type" ? "invalid_type" : "invalid_value";
  return ApiError.invalidRequest(`Invalid value for '${param}': ${issue.message ?? "not allowed"}.`, { param, code });
}

// '/messages/0/role' → 'messages[0].role', as OpenAI names parameters.
function pathToParam(instancePath: string): string {
  return instancePath
    .split("/")
    .filter((part) => part.length > 0)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : part))
    .reduce((param, part) => (part.startsWith("[") || param === "" ? `${param}${part}` : `${param}.${part}`), "");
}

function joinParam(parent: string, child: string): string {
  return parent === "" ? child : `${parent}.${child}`;
}

/** Fastify's error handler: every failure becomes an OpenAI-style body; the server keeps serving. */
export function createErrorHandler(logger: ServerLogger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const apiError = toApiError(error);
    if (apiError.statusCode >= 500) {
      logger.error(
        `${request.method} ${request.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    }
    sendApiError(reply, apiError);
  };
}

export function sendApiError(reply: FastifyReply, apiError: ApiError): void {
  if (reply.sent || reply.raw.headersSent) return;
  void reply
    .code(apiError.statusCode)
    .headers(apiError.headers)
    .type("application/json; charset=utf-8")
    .send(apiError.toBody());
}
