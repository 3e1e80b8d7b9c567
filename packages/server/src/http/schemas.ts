// JSON schemas for request bodies, checked by Fastify (Ajv) before a handler runs.
// Unknown fields are allowed (OpenAI clients send many); known ones must have the right type.

const nullable = (schema: Record<string, unknown>): Record<string, unknown> => ({ anyOf: [schema, { type: "null" }] });

const stopSchema = nullable({
  anyOf: [
    { type: "string", maxLength: 256 },
    { type: "array", maxItems: 4, items: { type: "string", maxLength: 256 } },
  ],
});

const samplingProperties = {
  model: { type: "string", minLength: 1, maxLength: 256 },
  max_tokens: nullable({ type: "integer", minimum: 1, maximum: 1_000_000 }),
  temperature: nullable({ type: "number", minimum: 0, maximum: 2 }),
  top_p: nullable({ type: "number", minimum: 0, maximum: 1 }),
  n: nullable({ type: "integer", minimum: 1, maximum: 1 }),
  stream: nullable({ type: "boolean" }),
  stream_options: nullable({ type: "object", properties: { include_usage: { type: "boolean" } } }),
  stop: stopSchema,
  seed: nullable({ type: "integer", minimum: -9007199254740991, maximum: 9007199254740991 }),
  presence_penalty: nullable({ type: "number", minimum: -2, maximum: 2 }),
  frequency_penalty: nullable({ type: "number", minimum: -2, maximum: 2 }),
  logit_bias: nullable({ type: "object" }),
  user: { type: "string", maxLength: 256 },
} as const;

const textPartSchema = {
  type: "object",
  required: ["type", "text"],
  properties: { type: { const: "text" }, text: { type: "string" } },
};

export const chatCompletionBodySchema = {
  type: "object",
  required: ["model", "messages"],
  properties: {
    ...samplingProperties,
    max_completion_tokens: nullable({ type: "integer", minimum: 1, maximum: 1_000_000 }),
    logprobs: nullable({ const: false }),
    messages: {
      type: "array",
      minItems: 1,
      maxItems: 2048,
      items: {
        type: "object",
        required: ["role", "content"],
        properties: {
          role: { enum: ["system", "developer", "user", "assistant"] },
          content: { anyOf: [{ type: "string" }, { type: "array", maxItems: 256, items: textPartSchema }] },
          name: { type: "string", maxLength: 256 },
        },
      },
    },
  },
} as const;

export const completionBodySchema = {
  type: "object",
  required: ["model", "prompt"],
  properties: {
    ...samplingProperties,
    prompt: { anyOf: [{ type: "string" }, { type: "array", minItems: 1, maxItems: 64, items: { type: "string" } }] },
    echo: nullable({ type: "boolean" }),
    best_of: nullable({ type: "integer", minimum: 1, maximum: 1 }),
    logprobs: nullable({ const: 0 }),
    suffix: nullable({ const: "" }),
  },
} as const;

/** The fields shared by both endpoints, as the handlers read them after validation. */
export interface SamplingFields {
  model: string;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  stop?: string | string[] | null;
  seed?: number | null;
}

export interface ChatCompletionBody extends SamplingFields {
  messages: Array<{
    role: "system" | "developer" | "user" | "assistant";
    content: string | Array<{ type: "text"; text: string }>;
  }>;
  max_completion_tokens?: number | null;
}

export interface CompletionBody extends SamplingFields {
  prompt: string | string[];
  echo?: boolean | null;
}
