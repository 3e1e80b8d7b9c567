import type { DemoItem } from "./demo-data.js";

/** What greedy decoding needs from a model (LlamaForCausalLM and PeftModel both fit). */
export interface GreedyGenerator {
  generate(
    inputIds: number[][],
    options: { maxNewTokens: number; eosTokenId?: number | number[]; doSample?: boolean },
  ): Promise<number[][]>;
}

/** What answering needs from a tokenizer. */
export interface AnswerTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  eosTokenId: number | null;
}

export interface HeldOutAnswer {
  item: DemoItem;
  answer: string;
  correct: boolean;
}

const MAX_NEW_TOKENS = 32;

/** The response part of a generation: up to the next template header or blank line, trimmed. */
function cleanAnswer(text: string): string {
  return text.split(/###|\n\n/)[0]?.trim() ?? "";
}

/** Greedy answers to each held-out prompt and whether each equals the reference exactly. */
export async function answerHeldOut(
  model: GreedyGenerator,
  tokenizer: AnswerTokenizer,
  items: readonly DemoItem[],
  promptOf: (item: DemoItem) => string,
): Promise<HeldOutAnswer[]> {
  const answers: HeldOutAnswer[] = [];
  for (const item of items) {
    const promptIds = tokenizer.encode(promptOf(item));
    const [generated] = await model.generate([promptIds], {
      maxNewTokens: MAX_NEW_TOKENS,
      eosTokenId: tokenizer.eosTokenId ?? undefined,
      doSample: false,
    });
    const answer = cleanAnswer(
      tokenizer.decode((generated ?? []).slice(promptIds.length), { skipSpecialTokens: true }),
    );
    answers.push({ item, answer, correct: answer === item.output.trim() });
  }
  return answers;
}

/** Exact-match accuracy in [0, 1]. */
export function exactMatch(answers: readonly HeldOutAnswer[]): number {
  return answers.length === 0 ? 0 : answers.filter((a) => a.correct).length / answers.length;
}
