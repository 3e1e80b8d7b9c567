/**
 * A prompt template. `text` templates have alpaca-lora's shape (a prompt with and one without input,
 * `{instruction}` / `{input}` placeholders, the marker that splits a generation from its prompt);
 * `chat` renders through the tokenizer's own `chat_template`.
 */
export interface PromptTemplate {
  name: string;
  kind: "text" | "chat";
  description: string;
  promptInput: string;
  promptNoInput: string;
  responseSplit: string;
}

/** The JSON file shape of alpaca-lora's templates/*.json, which user templates follow too. */
export interface PromptTemplateFile {
  description?: string;
  prompt_input: string;
  prompt_no_input: string;
  response_split: string;
}
