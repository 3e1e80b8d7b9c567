// The public Tokenizer contract and the parts every implementation shares.
import { renderChatTemplate } from "./chat-template.js";
import { StreamDecoder } from "./stream-decoder.js";

export interface ChatMessage {
  role: string;
  content: string;
}

export interface EncodeOptions {
  /** Add BOS/EOS as the tokenizer's configuration says (default true, as transformers does). */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave out special tokens (BOS, EOS, pad, ...). Default false, as transformers does. */
  skipSpecialTokens?: boolean;
}

export interface ChatTemplateOptions {
  /** Append the prompt that starts the assistant's turn. */
  addGenerationPrompt?: boolean;
}

/** Decodes ids one at a time into text chunks whose concatenation equals `decode(allIds)`. */
export interface TokenStreamDecoder {
  push(id: number): string;
  flush(): string;
}

export interface Tokenizer {
  encode(text: string, options?: EncodeOptions): number[];
  encodeBatch(texts: string[], options?: EncodeOptions): number[][];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly chatTemplate: string | undefined;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  createStreamDecoder(options?: DecodeOptions): TokenStreamDecoder;
  applyChatTemplate(messages: ChatMessage[], options?: ChatTemplateOptions): string;
}

/** Special-token strings a chat template may refer to. */
export interface SpecialTokenStrings {
  bos?: string;
  eos?: string;
  unk?: string;
  pad?: string;
}

export abstract class BaseTokenizer implements Tokenizer {
  abstract encode(text: string, options?: EncodeOptions): number[];
  abstract decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  abstract readonly vocabSize: number;
  abstract readonly bosTokenId: number | null;
  abstract readonly eosTokenId: number | null;
  abstract readonly padTokenId: number | null;
  abstract readonly chatTemplate: string | undefined;
  abstract idToToken(id: number): string | undefined;
  abstract tokenToId(token: string): number | undefined;
  protected abstract specialTokenStrings(): SpecialTokenStrings;
  /** Where the tokenizer came from, for error messages. */
  abstract readonly source: string;

  encodeBatch(texts: string[], options?: EncodeOptions): number[][] {
    return texts.map((text) => this.encode(text, options));
  }

  createStreamDecoder(options: DecodeOptions = {}): TokenStreamDecoder {
    return new StreamDecoder((ids) => this.decode(ids, options));
  }

  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
    const special = this.specialTokenStrings();
    return renderChatTemplate({
      template: this.chatTemplate,
      source: this.source,
      messages,
      addGenerationPrompt: options.addGenerationPrompt ?? false,
      specialTokens: special,
    });
  }
}
