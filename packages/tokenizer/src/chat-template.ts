// Chat templates: the Jinja `chat_template` of tokenizer_config.json rendered with @huggingface/jinja.
import { Template } from "@huggingface/jinja";
import { ConfigError, ValidationError } from "@llamats/core";
import type { ChatMessage, SpecialTokenStrings } from "./tokenizer.js";

export interface RenderChatTemplateOptions {
  template: string | undefined;
  source: string;
  messages: ChatMessage[];
  addGenerationPrompt: boolean;
  specialTokens: SpecialTokenStrings;
}

const compiled = new Map<string, Template>();

export function renderChatTemplate(options: RenderChatTemplateOptions): string {
  const { template, source } = options;
  if (template === undefined) {
    throw new ConfigError(
      `${source} has no chat_template (looked in tokenizer_config.json and chat_template.jinja); base LLaMA tokenizers have none — format the prompt yourself (for example with an Alpaca template) or use a chat model's tokenizer`,
      { key: "chat_template" },
    );
  }
  options.messages.forEach((m, i) => {
    if (typeof m?.role !== "string" || typeof m?.content !== "string") {
      throw new ValidationError(
        `messages[${i}] must be { role: string, content: string }; found ${JSON.stringify(m)}`,
        {
          location: `messages[${i}]`,
        },
      );
    }
  });
  let compiledTemplate = compiled.get(template);
  if (!compiledTemplate) {
    try {
      compiledTemplate = new Template(template);
    } catch (error) {
      throw new ConfigError(`${source}: chat_template does not parse as Jinja: ${(error as Error).message}`, {
        key: "chat_template",
        cause: error,
      });
    }
    compiled.set(template, compiledTemplate);
  }
  const s = options.specialTokens;
  try {
    return compiledTemplate.render({
      messages: options.messages,
      add_generation_prompt: options.addGenerationPrompt,
      bos_token: s.bos ?? "",
      eos_token: s.eos ?? "",
      unk_token: s.unk ?? "",
      pad_token: s.pad ?? "",
    });
  } catch (error) {
    throw new ValidationError(`${source}: chat_template failed to render: ${(error as Error).message}`, {
      location: "chat_template",
      cause: error,
    });
  }
}
