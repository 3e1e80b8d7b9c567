import { ConfigError, ValidationError } from "@llamats/core";
import {
  isAlpacaRecord,
  isChatRecord,
  type AlpacaRecord,
  type ChatMessage,
  type InstructionRecord,
} from "../dataset/records.js";
import type { TrainingTokenizer } from "../tokenize/training-tokenizer.js";
import type { PromptTemplate } from "./prompt-template.js";

/** A piece of rendered text and whether the model is trained to produce it. */
export interface RenderedSegment {
  text: string;
  trained: boolean;
}

// One pass, as Python's str.format: `{{`/`}}` are literal braces and substituted text is never re-read.
function fillPlaceholders(pattern: string, values: { instruction: string; input: string }): string {
  return pattern.replace(/\{\{|\}\}|\{(instruction|input)\}/g, (match, name: "instruction" | "input" | undefined) => {
    if (name) return values[name];
    return match === "{{" ? "{" : "}";
  });
}

/** The prompt of a text template for an instruction (and input, when it is not empty). */
export function renderTextPrompt(template: PromptTemplate, instruction: string, input = ""): string {
  const pattern = input !== "" ? template.promptInput : template.promptNoInput;
  return fillPlaceholders(pattern, { instruction, input });
}

function alpacaAsMessages(record: AlpacaRecord): ChatMessage[] {
  const user = record.input !== "" ? `${record.instruction}\n\n${record.input}` : record.instruction;
  return [
    { role: "user", content: user },
    { role: "assistant", content: record.output },
  ];
}

function chatTemplateOf(
  tokenizer: TrainingTokenizer | undefined,
): Required<Pick<TrainingTokenizer, "applyChatTemplate">> {
  if (!tokenizer?.applyChatTemplate || !tokenizer.chatTemplate) {
    throw new ConfigError("The chat template needs a tokenizer with a chat_template (tokenizer_config.json)", {
      key: "template",
    });
  }
  return { applyChatTemplate: tokenizer.applyChatTemplate.bind(tokenizer) };
}

/**
 * Renders a conversation with the tokenizer's chat template into alternating untrained (system, user,
 * template markup) and trained (assistant) segments whose concatenation is the full rendered text.
 */
export function renderChatSegments(
  messages: ChatMessage[],
  tokenizer: TrainingTokenizer | undefined,
): RenderedSegment[] {
  const { applyChatTemplate } = chatTemplateOf(tokenizer);
  const segments: RenderedSegment[] = [];
  let done = "";
  messages.forEach((message, i) => {
    if (message.role !== "assistant") return;
    const before = applyChatTemplate(messages.slice(0, i), { addGenerationPrompt: true });
    const through = applyChatTemplate(messages.slice(0, i + 1), { addGenerationPrompt: false });
    if (!before.startsWith(done) || !through.startsWith(before)) {
      throw new ValidationError(
        `The chat template does not render turn ${i} as an extension of the turns before it, so its labels cannot be placed`,
        { location: `messages[${i}]` },
      );
    }
    if (before.length > done.length) segments.push({ text: before.slice(done.length), trained: false });
    segments.push({ text: through.slice(before.length), trained: true });
    done = through;
  });
  const full = applyChatTemplate(messages, { addGenerationPrompt: false });
  if (full.length > done.length && full.startsWith(done))
    segments.push({ text: full.slice(done.length), trained: false });
  return segments;
}

/**
 * The prompt and the expected response of a record under a template. For chat records (or the `chat`
 * template) everything up to the last assistant turn is the prompt.
 */
export function renderPrompt(
  template: PromptTemplate,
  record: InstructionRecord,
  options: { tokenizer?: TrainingTokenizer } = {},
): { prompt: string; response: string } {
  if (template.kind === "chat" || isChatRecord(record)) {
    const messages = isChatRecord(record) ? record.messages : isAlpacaRecord(record) ? alpacaAsMessages(record) : null;
    if (!messages) throw new ValidationError("A tokenized record has no text to render", { location: "input_ids" });
    if (template.kind === "text") return renderChatWithTextTemplate(template, messages);
    const segments = renderChatSegments(messages, options.tokenizer);
    const last = segments.map((s) => s.trained).lastIndexOf(true);
    return {
      prompt: segments
        .slice(0, last)
        .map((s) => s.text)
        .join(""),
      response: segments
        .slice(last)
        .map((s) => s.text)
        .join(""),
    };
  }
  if (!isAlpacaRecord(record))
    throw new ValidationError("A tokenized record has no text to render", { location: "input_ids" });
  return { prompt: renderTextPrompt(template, record.instruction, record.input), response: record.output };
}

// A one-exchange conversation (optionally with a system turn as input) fits an instruction template.
function renderChatWithTextTemplate(
  template: PromptTemplate,
  messages: ChatMessage[],
): { prompt: string; response: string } {
  const users = messages.filter((m) => m.role === "user");
  const assistants = messages.filter((m) => m.role === "assistant");
  if (users.length !== 1 || assistants.length !== 1) {
    throw new ValidationError(
      `Template "${template.name}" takes one user and one assistant turn; this conversation has ${users.length} and ${assistants.length} — use the chat template`,
      { location: "messages" },
    );
  }
  const system = messages.find((m) => m.role === "system")?.content ?? "";
  return {
    prompt: renderTextPrompt(template, (users[0] as ChatMessage).content, system),
    response: (assistants[0] as ChatMessage).content,
  };
}
