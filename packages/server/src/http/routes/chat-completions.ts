import type { FastifyInstance } from "fastify";
import { ApiError } from "../../api-error.js";
import type { ChatMessage } from "../../engine/generation-engine.js";
import { runGeneration, type GenerationOutcome } from "../../generation/run-generation.js";
import { withGenerationSlot } from "../generation-slot.js";
import { responseId, unixSeconds } from "../response-id.js";
import { resolveSamplingSettings } from "../sampling-settings.js";
import { chatCompletionBodySchema, type ChatCompletionBody } from "../schemas.js";
import { shuttingDownError, type ServerState } from "../server-state.js";
import { SseStream } from "../sse-stream.js";

/** `POST /v1/chat/completions`, streaming (SSE) or not. */
export function registerChatCompletionsRoute(app: FastifyInstance, state: ServerState): void {
  app.post("/v1/chat/completions", { schema: { body: chatCompletionBodySchema } }, async (request, reply) => {
    state.assertAcceptingWork();
    const body = request.body as ChatCompletionBody;
    const messages = normalizeMessages(body.messages);
    const card = state.modelCard(body.model);
    const prompt = state.engine.preparePrompt({ model: card.id, messages });
    const settings = resolveSamplingSettings({
      body,
      maxTokens: body.max_completion_tokens ?? body.max_tokens,
      maxTokensParam: body.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
      promptTokens: prompt.tokenIds.length,
      contextLength: card.contextLength,
      promptParam: "messages",
    });
    const id = responseId("chatcmpl");
    const created = unixSeconds();
    const usageOf = (outcome: GenerationOutcome) => ({
      prompt_tokens: outcome.promptTokens,
      completion_tokens: outcome.completionTokens,
      total_tokens: outcome.promptTokens + outcome.completionTokens,
    });

    if (!body.stream) {
      const outcome = await withGenerationSlot({
        state,
        reply,
        work: (signal) => runGeneration({ engine: state.engine, prompt, ...settings, signal }),
      });
      if (outcome.finishReason === "cancelled") throw shuttingDownError();
      return {
        id,
        object: "chat.completion",
        created,
        model: card.id,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: outcome.text },
            logprobs: null,
            finish_reason: outcome.finishReason,
          },
        ],
        usage: usageOf(outcome),
      };
    }

    await withGenerationSlot({
      state,
      reply,
      work: async (signal, { isShutdown }) => {
        reply.hijack();
        const sse = new SseStream({ response: reply.raw, drainTimeoutMs: state.drainTimeoutMs });
        const chunk = (delta: Record<string, string>, finishReason: string | null) => ({
          id,
          object: "chat.completion.chunk",
          created,
          model: card.id,
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        });
        await sse.sendAll({
          what: "chat completion",
          logger: state.logger,
          produce: async () => {
            await sse.send(chunk({ role: "assistant", content: "" }, null));
            const outcome = await runGeneration({
              engine: state.engine,
              prompt,
              ...settings,
              signal,
              onText: (text) => sse.send(chunk({ content: text }, null)),
            });
            if (outcome.finishReason === "cancelled") {
              if (isShutdown()) await sse.send(shuttingDownError().toBody());
            } else {
              await sse.send(chunk({}, outcome.finishReason));
              if (body.stream_options?.include_usage) {
                await sse.send({
                  id,
                  object: "chat.completion.chunk",
                  created,
                  model: card.id,
                  choices: [],
                  usage: usageOf(outcome),
                });
              }
            }
          },
        });
      },
    }).catch((error: unknown) => {
      // Errors before the stream started (429, 503) are answered as plain JSON; later ones were sent as events.
      if (!reply.sent) throw error;
    });
    return reply;
  });
}

/** OpenAI's `developer` role is a system message; content parts are joined into one string. */
function normalizeMessages(messages: ChatCompletionBody["messages"]): ChatMessage[] {
  const normalized = messages.map((message) => ({
    role: message.role === "developer" ? "system" : message.role,
    content: typeof message.content === "string" ? message.content : message.content.map((part) => part.text).join(""),
  })) satisfies ChatMessage[];
  if (!normalized.some((message) => message.role === "user")) {
    throw ApiError.invalidRequest("The conversation needs at least one message with role 'user'.", {
      param: "messages",
      code: "invalid_value",
    });
  }
  return normalized;
}
