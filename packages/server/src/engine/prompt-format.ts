import type { ChatMessage, PromptFormat } from "./generation-engine.js";

// The Alpaca prompt as tloen/alpaca-lora's templates/alpaca.json has it (Apache-2.0).
const ALPACA_PREAMBLE_NO_INPUT =
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.";
const ALPACA_PREAMBLE_WITH_INPUT =
  "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.";

export interface RenderedPrompt {
  text: string;
  /** Strings that mark the model starting a new turn on its own: generation stops there. */
  impliedStops: string[];
}

export interface RenderChatPromptOptions {
  messages: readonly ChatMessage[];
  format: PromptFormat;
  /** The tokenizer's chat template renderer; required for the `chat-template` format. */
  applyChatTemplate?: (messages: readonly ChatMessage[]) => string;
}

/** Turns a chat conversation into one prompt string in the model's format. */
export function renderChatPrompt(options: RenderChatPromptOptions): RenderedPrompt {
  const { messages, format } = options;
  if (format === "chat-template") {
    if (!options.applyChatTemplate) throw new TypeError("The chat-template format needs applyChatTemplate.");
    return { text: options.applyChatTemplate(messages), impliedStops: [] };
  }
  if (format === "alpaca") return renderAlpaca(messages);
  return renderPlain(messages);
}

/**
 * Alpaca: the last user message is the instruction; a system message and any earlier turns become
 * the `### Input:` context, since the template has no place for a conversation.
 */
function renderAlpaca(messages: readonly ChatMessage[]): RenderedPrompt {
  let lastUser = -1;
  messages.forEach((message, index) => {
    if (message.role === "user") lastUser = index;
  });
  const instruction = lastUser >= 0 ? messages[lastUser].content : "";
  const context = messages
    .filter((_, index) => index !== lastUser)
    .map((message) => (message.role === "system" ? message.content : `${roleLabel(message.role)}: ${message.content}`))
    .join("\n");
  const text =
    context.length > 0
      ? `${ALPACA_PREAMBLE_WITH_INPUT}\n\n### Instruction:\n${instruction}\n\n### Input:\n${context}\n\n### Response:\n`
      : `${ALPACA_PREAMBLE_NO_INPUT}\n\n### Instruction:\n${instruction}\n\n### Response:\n`;
  return { text, impliedStops: ["\n### "] };
}

/** For a base model without a chat template: a plain transcript that ends where the assistant speaks. */
function renderPlain(messages: readonly ChatMessage[]): RenderedPrompt {
  const lines = messages.map((message) => `${roleLabel(message.role)}: ${message.content}`);
  return { text: `${lines.join("\n")}\nAssistant:`, impliedStops: ["\nUser:", "\nSystem:"] };
}

function roleLabel(role: ChatMessage["role"]): string {
  return role === "system" ? "System" : role === "user" ? "User" : "Assistant";
}
