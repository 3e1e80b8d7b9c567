// tokenizer_config.json: special tokens, add_bos_token / add_eos_token, chat_template.
import { FormatError } from "@llamats/core";

/** The fields of tokenizer_config.json that change how a tokenizer behaves. */
export interface TokenizerConfig {
  bosToken?: string;
  eosToken?: string;
  unkToken?: string;
  padToken?: string;
  addBosToken?: boolean;
  addEosToken?: boolean;
  chatTemplate?: string;
  cleanUpTokenizationSpaces?: boolean;
  /** transformers class name, e.g. LlamaTokenizerFast (decides whether add_bos_token rebuilds the template). */
  tokenizerClass?: string;
  /** id → content of tokens listed in `added_tokens_decoder` (special or not). */
  addedTokens: Array<{ id: number; content: string; special: boolean }>;
}

function tokenString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { content?: unknown }).content === "string") {
    return (value as { content: string }).content;
  }
  return undefined;
}

function chatTemplateOf(value: unknown, file: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    // transformers' list form: [{ name, template }]; the "default" one is used for plain chat.
    const entries = value as Array<{ name?: unknown; template?: unknown }>;
    const chosen = entries.find((e) => e?.name === "default") ?? entries[0];
    if (typeof chosen?.template === "string") return chosen.template;
  }
  throw new FormatError(
    `${file}: chat_template must be a string or a list of {name, template}; found ${JSON.stringify(value).slice(0, 80)}`,
    {
      file,
    },
  );
}

export function parseTokenizerConfig(json: unknown, file = "tokenizer_config.json"): TokenizerConfig {
  if (!json || typeof json !== "object" || Array.isArray(json)) {
    throw new FormatError(`${file} must hold a JSON object; found ${Array.isArray(json) ? "an array" : typeof json}`, {
      file,
    });
  }
  const raw = json as Record<string, unknown>;
  const config: TokenizerConfig = { addedTokens: [] };
  config.bosToken = tokenString(raw.bos_token);
  config.eosToken = tokenString(raw.eos_token);
  config.unkToken = tokenString(raw.unk_token);
  config.padToken = tokenString(raw.pad_token);
  if (typeof raw.add_bos_token === "boolean") config.addBosToken = raw.add_bos_token;
  if (typeof raw.add_eos_token === "boolean") config.addEosToken = raw.add_eos_token;
  if (typeof raw.clean_up_tokenization_spaces === "boolean")
    config.cleanUpTokenizationSpaces = raw.clean_up_tokenization_spaces;
  if (typeof raw.tokenizer_class === "string") config.tokenizerClass = raw.tokenizer_class;
  config.chatTemplate = chatTemplateOf(raw.chat_template, file);
  const decoder = raw.added_tokens_decoder;
  if (decoder && typeof decoder === "object") {
    for (const [id, value] of Object.entries(decoder as Record<string, unknown>)) {
      const content = tokenString(value);
      if (content === undefined || !/^\d+$/.test(id)) continue;
      config.addedTokens.push({ id: Number(id), content, special: (value as { special?: unknown }).special === true });
    }
  }
  return config;
}

/** transformers' `clean_up_tokenization`: removes the spaces a word-level detokenizer leaves before punctuation. */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
