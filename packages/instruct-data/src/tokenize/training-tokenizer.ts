import type { ChatMessage } from "../dataset/records.js";

/**
 * The part of `@llamats/tokenizer`'s Tokenizer this package uses; any object of this shape works
 * (a Tokenizer from `loadTokenizer`, or a stub in tests).
 */
export interface TrainingTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  bosTokenId: number | null;
  eosTokenId: number | null;
  padTokenId?: number | null;
  chatTemplate?: string;
  applyChatTemplate?(messages: ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
  idToToken?(id: number): string | undefined | null;
}
