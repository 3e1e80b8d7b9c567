interface ChunkChoice {
  index?: unknown;
  delta?: { role?: unknown; content?: unknown };
  finish_reason?: unknown;
}

interface Chunk {
  id?: unknown;
  object?: unknown;
  choices?: ChunkChoice[];
  error?: unknown;
}

/**
 * Checks the events of one chat-completion stream: same id throughout, the assistant role first,
 * string deltas, and exactly one finish_reason at the end. Returns the problem or null, and the text.
 */
export function checkChatStream(events: readonly unknown[]): {
  problem: string | null;
  text: string;
  contentChunks: number;
} {
  let text = "";
  let contentChunks = 0;
  let finishes = 0;
  let id: unknown;
  for (const [position, raw] of events.entries()) {
    const chunk = raw as Chunk;
    if (chunk.error !== undefined)
      return { problem: `error event: ${JSON.stringify(chunk.error)}`, text, contentChunks };
    if (chunk.object !== "chat.completion.chunk")
      return { problem: `event ${position} has object ${String(chunk.object)}`, text, contentChunks };
    if (position === 0) id = chunk.id;
    else if (chunk.id !== id) return { problem: `event ${position} changes the id`, text, contentChunks };
    if (!Array.isArray(chunk.choices)) return { problem: `event ${position} has no choices`, text, contentChunks };
    for (const choice of chunk.choices) {
      if (finishes > 0) return { problem: `event ${position} comes after the finish_reason`, text, contentChunks };
      if (position === 0 && choice.delta?.role !== "assistant")
        return { problem: "the first event does not give the assistant role", text, contentChunks };
      const content = choice.delta?.content;
      if (content !== undefined && typeof content !== "string")
        return { problem: `event ${position} has non-string content`, text, contentChunks };
      if (typeof content === "string" && content.length > 0) {
        text += content;
        contentChunks += 1;
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        if (choice.finish_reason !== "stop" && choice.finish_reason !== "length") {
          return { problem: `unexpected finish_reason ${JSON.stringify(choice.finish_reason)}`, text, contentChunks };
        }
        finishes += 1;
      }
    }
  }
  if (finishes !== 1)
    return { problem: `the stream has ${finishes} finish_reason values, expected 1`, text, contentChunks };
  return { problem: null, text, contentChunks };
}
