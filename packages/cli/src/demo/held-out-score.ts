import { evaluate, type TrainableModel, type TrainingExample } from "@llamats/trainer";
import type { DemoItem } from "./demo-data.js";
import type { HeldOutScore } from "./demo-report.js";
import { responseTokenAccuracy } from "./response-token-accuracy.js";
import {
  answerHeldOut,
  exactMatch,
  type AnswerTokenizer,
  type GreedyGenerator,
  type HeldOutAnswer,
} from "./held-out-answers.js";

export interface ScoreOptions {
  generator: GreedyGenerator;
  lossModel: Pick<TrainableModel, "forward">;
  tokenizer: AnswerTokenizer;
  items: readonly DemoItem[];
  /** The same items tokenized with labels on the response only. */
  examples: readonly TrainingExample[];
  promptOf: (item: DemoItem) => string;
  padId: number;
}

/** Greedy exact match, response token accuracy and response-only loss / perplexity on the held-out items. */
export async function scoreHeldOut(options: ScoreOptions): Promise<{ score: HeldOutScore; answers: HeldOutAnswer[] }> {
  const answers = await answerHeldOut(options.generator, options.tokenizer, options.items, options.promptOf);
  // evaluate() only calls forward; the rest of TrainableModel is unused here.
  const lossModel: TrainableModel = {
    forward: (inputIds, forwardOptions) => options.lossModel.forward(inputIds, forwardOptions),
    namedTrainableVariables: () => new Map(),
    save: async () => {},
    weightsFile: "",
  };
  const loss = await evaluate({ model: lossModel, examples: options.examples, batchSize: 16, padId: options.padId });
  const tokenAccuracy = await responseTokenAccuracy(lossModel, options.examples, options.padId);
  const correct = answers.filter((a) => a.correct).length;
  return {
    score: {
      exactMatch: exactMatch(answers),
      correct,
      total: answers.length,
      tokenAccuracy,
      loss: loss.loss,
      perplexity: loss.perplexity,
    },
    answers,
  };
}
