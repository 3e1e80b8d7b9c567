/** The part of @llamats/tokenizer's Tokenizer that generation uses (text for streaming and stop strings). */
export interface GenerationTokenizer {
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  createStreamDecoder(options?: { skipSpecialTokens?: boolean }): { push(id: number): string; flush(): string };
  readonly eosTokenId?: number | null;
  readonly padTokenId?: number | null;
}
