import type { FastifyInstance } from "fastify";
import type { PreparedPrompt } from "../../engine/generation-engine.js";
import { runGeneration, type GenerationOutcome } from "../../generation/run-generation.js";
import { withGenerationSlot } from "../generation-slot.js";
import { responseId, unixSeconds } from "../response-id.js";
import { resolveSamplingSettings, type SamplingSettings } from "../sampling-settings.js";
import { completionBodySchema, type CompletionBody } from "../schemas.js";
import { shuttingDownError, type ServerState } from "../server-state.js";
import { SseStream } from "../sse-stream.js";

// OpenAI's legacy default for `max_tokens` on /v1/completions.
const DEFAULT_COMPLETION_MAX_TOKENS = 16;

/**
 * `POST /v1/completions`: raw prompts, no template. A list of prompts gives one choice per prompt
 * (generated one after another in the same slot), as self-instruct style teachers send them.
 */
export function registerCompletionsRoute(app: FastifyInstance, state: ServerState): void {
  app.post("/v1/completions", { schema: { body: completionBodySchema } }, async (request, reply) => {
    state.assertAcceptingWork();
    const body = request.body as CompletionBody;
    const card = state.modelCard(body.model);
    const prompts = (typeof body.prompt === "string" ? [body.prompt] : body.prompt).map((text) =>
      state.engine.preparePrompt({ model: card.id, prompt: text }),
    );
    const jobs = prompts.map((prompt, index) => ({
      prompt,
      settings: resolveSamplingSettings({
        body,
        maxTokens: body.max_tokens,
        maxTokensParam: "max_tokens",
        promptTokens: prompt.tokenIds.length,
        contextLength: card.contextLength,
        defaultMaxTokens: DEFAULT_COMPLETION_MAX_TOKENS,
        promptParam: prompts.length > 1 ? `prompt[${index}]` : "prompt",
      }),
    }));
    const id = responseId("cmpl");
    const created = unixSeconds();
    const echoOf = (prompt: PreparedPrompt): string => (body.echo ? prompt.text : "");
    const totalUsage = (outcomes: GenerationOutcome[]) => {
      const promptTokens = outcomes.reduce((sum, outcome) => sum + outcome.promptTokens, 0);
      const completionTokens = outcomes.reduce((sum, outcome) => sum + outcome.completionTokens, 0);
      return {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      };
    };
    const generate = (
      job: { prompt: PreparedPrompt; settings: SamplingSettings },
      signal: AbortSignal,
      onText?: (text: string) => Promise<void>,
    ) => runGeneration({ engine: state.engine, prompt: job.prompt, ...job.settings, signal, onText });

    if (!body.stream) {
      const outcomes = await withGenerationSlot({
        state,
        reply,
        work: async (signal) => {
          const results: GenerationOutcome[] = [];
          for (const job of jobs) {
            if (signal.aborted) break;
            results.push(await generate(job, signal));
          }
          return results;
        },
      });
      if (outcomes.length < jobs.length || outcomes.some((outcome) => outcome.finishReason === "cancelled")) {
        throw shuttingDownError();
      }
      return {
        id,
        object: "text_completion",
        created,
        model: card.id,
        choices: outcomes.map((outcome, index) => ({
          text: echoOf(jobs[index].prompt) + outcome.text,
          index,
          logprobs: null,
          finish_reason: outcome.finishReason,
        })),
        usage: totalUsage(outcomes),
      };
    }

    await withGenerationSlot({
      state,
      reply,
      work: async (signal, { isShutdown }) => {
        reply.hijack();
        const sse = new SseStream({ response: reply.raw, drainTimeoutMs: state.drainTimeoutMs });
        const chunk = (index: number, text: string, finishReason: string | null) => ({
          id,
          object: "text_completion",
          created,
          model: card.id,
          choices: [{ text, index, logprobs: null, finish_reason: finishReason }],
        });
        const outcomes: GenerationOutcome[] = [];
        await sse.sendAll({
          what: "completion",
          logger: state.logger,
          produce: async () => {
            for (const [index, job] of jobs.entries()) {
              if (body.echo) await sse.send(chunk(index, job.prompt.text, null));
              const outcome = await generate(job, signal, (text) => sse.send(chunk(index, text, null)));
              if (outcome.finishReason === "cancelled") {
                if (isShutdown()) await sse.send(shuttingDownError().toBody());
                return;
              }
              outcomes.push(outcome);
              await sse.send(chunk(index, "", outcome.finishReason));
            }
            if (body.stream_options?.include_usage) {
              await sse.send({
                id,
                object: "text_completion",
                created,
                model: card.id,
                choices: [],
                usage: totalUsage(outcomes),
              });
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
