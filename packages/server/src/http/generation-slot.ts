import type { FastifyReply } from "fastify";
import { ApiError } from "../api-error.js";
import { QueueFullError } from "../scheduler/admission-queue.js";
import { shuttingDownError, type ServerState } from "./server-state.js";

/**
 * Runs `work` once the admission queue gives it a slot. The signal passed to `work` aborts when the
 * client disconnects (so its generation stops) or when shutdown gives up waiting.
 */
export async function withGenerationSlot<T>(options: {
  state: ServerState;
  reply: FastifyReply;
  work: (signal: AbortSignal, context: { isShutdown: () => boolean }) => Promise<T>;
}): Promise<T> {
  const { state, reply } = options;
  const controller = new AbortController();
  const onClientGone = (): void => {
    if (!reply.raw.writableFinished) controller.abort(new Error("The client disconnected."));
  };
  const onShutdown = (): void => controller.abort(new Error("The server is shutting down."));
  reply.raw.on("close", onClientGone);
  state.shutdownController.signal.addEventListener("abort", onShutdown, { once: true });
  const isShutdown = (): boolean => state.shutdownController.signal.aborted;
  try {
    let release: () => void;
    try {
      release = await state.admission.acquire({ signal: controller.signal });
    } catch (error) {
      if (error instanceof QueueFullError) {
        throw new ApiError(error.message, {
          statusCode: 429,
          type: "rate_limit_error",
          code: "rate_limit_exceeded",
          headers: { "Retry-After": String(error.retryAfterSeconds) },
        });
      }
      if (state.draining) throw shuttingDownError();
      throw ApiError.invalidRequest("The request was cancelled.", { code: "request_cancelled" });
    }
    try {
      return await state.track(options.work(controller.signal, { isShutdown }));
    } finally {
      release();
    }
  } finally {
    reply.raw.off("close", onClientGone);
    state.shutdownController.signal.removeEventListener("abort", onShutdown);
  }
}
