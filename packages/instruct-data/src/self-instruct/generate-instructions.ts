import { ConfigError } from "@llamats/core";
import type { AlpacaRecord } from "../dataset/records.js";
import { RougeSimilarityIndex, topScores } from "../rouge/rouge-similarity-index.js";
import type { RougeTokenizerName } from "../rouge/rouge-tokenize.js";
import { sampleWithoutReplacement, seededRandom } from "../util/seeded-random.js";
import { ALPACA_SELF_INSTRUCT_PROMPT } from "./alpaca-prompt.js";
import { encodeSelfInstructPrompt } from "./encode-prompt.js";
import { GeneratedInstructionStore, type GeneratedInstruction } from "./generated-instruction-store.js";
import {
  instructionRejectionReason,
  type InstructionFilterOptions,
  type RejectionReason,
} from "./instruction-filters.js";
import { parseGeneratedInstructions } from "./parse-generated-instructions.js";
import { TeacherClient, type TeacherApi } from "./teacher-client.js";
import { TeacherError } from "./teacher-error.js";

export interface GenerationPricing {
  /** US dollars per million prompt tokens. */
  promptPerMillion: number;
  /** US dollars per million completion tokens. */
  completionPerMillion: number;
}

export interface GenerationProgress {
  kept: number;
  target: number;
  requests: number;
  failedRequests: number;
  parsed: number;
  rejected: Partial<Record<RejectionReason, number>>;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
}

export interface GenerateInstructionsOptions {
  /** An OpenAI-compatible server (`https://api.openai.com`, `http://127.0.0.1:8000` for `llamats serve` …). */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** `chat` (/v1/chat/completions, default) or `completions` (/v1/completions, as the original). */
  api?: TeacherApi;
  /** Human-written examples (self-instruct seed tasks); 3 are sampled into each prompt. */
  seedTasks: readonly AlpacaRecord[];
  /** The request's instructions text; default Stanford Alpaca's prompt.txt. */
  promptText?: string;
  /** Stop when the output file holds this many instructions (those already there count). */
  numInstructions: number;
  /** Where kept instructions go (`.jsonl` lines or a `.json` array); an existing file is resumed. */
  outputPath: string;
  /** Prompts sent together (the original's request_batch_size, default 5): the default concurrency. */
  requestBatchSize?: number;
  /** Requests in flight at once (default: requestBatchSize); each answer is deduped as it arrives. */
  concurrency?: number;
  /** Examples per prompt (default 3). */
  promptExampleCount?: number;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  /** Near-duplicate bar: a ROUGE-L F-measure above this with any seed or kept instruction rejects (0.7). */
  similarityThreshold?: number;
  /** `unicode` also dedups Korean and other scripts; `rouge-score` (default) is the original's. */
  rougeTokenizer?: RougeTokenizerName;
  filters?: InstructionFilterOptions;
  seed?: number;
  pricing?: GenerationPricing;
  requestTimeoutMs?: number;
  maxRetries?: number;
  retryBaseDelayMs?: number;
  /** Send at most this many requests in this run (default: no limit, as the original). */
  maxRequests?: number;
  /** Stop after this many answers in a row add nothing (every item parsed badly, filtered or too similar; default 100). */
  maxFruitlessRequests?: number;
  /** Stop after this many requests in a row fail for good (default 10). */
  maxConsecutiveFailures?: number;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  onProgress?: (progress: GenerationProgress) => void;
  log?: (line: string) => void;
}

export interface GenerateInstructionsResult extends GenerationProgress {
  /** Why the run ended before `numInstructions`, when it did without an error. */
  stoppedEarly: "max-requests" | "fruitless" | null;
  /** Instructions that were in the output file before this run. */
  resumed: number;
  outputPath: string;
}

// The original asks for up to 20 tasks and stops the model before a 20th.
const STOP_SEQUENCES = ["\n20", "20.", "20."];

function validateOptions(options: GenerateInstructionsOptions): void {
  if (!Number.isInteger(options.numInstructions) || options.numInstructions < 1) {
    throw new ConfigError(`numInstructions must be a positive integer, found ${options.numInstructions}`, {
      key: "numInstructions",
    });
  }
  const count = options.promptExampleCount ?? 3;
  if (options.seedTasks.length < count) {
    throw new ConfigError(`Self-instruct needs at least ${count} seed tasks, found ${options.seedTasks.length}`, {
      key: "seedTasks",
    });
  }
}

/**
 * Self-instruct generation as Stanford Alpaca's generate_instruction.py: prompts of 3 sampled seed tasks,
 * the numbered answer parsed and filtered, ROUGE-L dedup against the seeds and every kept instruction.
 * Kept instructions are written as they are accepted, so a failing teacher loses nothing; a rerun resumes.
 */
export async function generateInstructions(options: GenerateInstructionsOptions): Promise<GenerateInstructionsResult> {
  validateOptions(options);
  const { store } = await GeneratedInstructionStore.open(options.outputPath);
  const resumed = store.records.length;
  const index = new RougeSimilarityIndex({ tokenizer: options.rougeTokenizer });
  for (const task of options.seedTasks) index.add(task.instruction);
  for (const record of store.records) index.add(record.instruction);
  const teacher = new TeacherClient({
    baseUrl: options.baseUrl,
    model: options.model,
    apiKey: options.apiKey,
    api: options.api,
    fetch: options.fetch,
    requestTimeoutMs: options.requestTimeoutMs,
    maxRetries: options.maxRetries,
    retryBaseDelayMs: options.retryBaseDelayMs,
    log: options.log,
  });
  const random = seededRandom(options.seed ?? Date.now());
  const exampleCount = options.promptExampleCount ?? 3;
  const threshold = options.similarityThreshold ?? 0.7;
  const batchSize = options.requestBatchSize ?? 5;
  const concurrency = Math.max(1, options.concurrency ?? batchSize);
  const maxFailures = options.maxConsecutiveFailures ?? 10;
  const progress: GenerationProgress = {
    kept: resumed,
    target: options.numInstructions,
    requests: 0,
    failedRequests: 0,
    parsed: 0,
    rejected: {},
    promptTokens: 0,
    completionTokens: 0,
    costUsd: options.pricing ? 0 : null,
  };
  const reject = (reason: RejectionReason) => {
    progress.rejected[reason] = (progress.rejected[reason] ?? 0) + 1;
  };
  let consecutiveFailures = 0;
  let fruitless = 0;
  const maxFruitless = options.maxFruitlessRequests ?? 100;
  let fatal: unknown = null;
  let writes: Promise<void> = Promise.resolve();

  // Dedup and bookkeeping run synchronously between awaits, so concurrent answers never race.
  const acceptAnswer = (text: string, finishReason: string | null): GeneratedInstruction[] => {
    const kept: GeneratedInstruction[] = [];
    for (const record of parseGeneratedInstructions(text, { promptExampleCount: exampleCount, finishReason })) {
      progress.parsed++;
      if (progress.kept >= options.numInstructions) break;
      const reason = instructionRejectionReason(record.instruction, options.filters);
      if (reason) {
        reject(reason);
        continue;
      }
      const ids = index.encode(record.instruction);
      const scores = index.scoreAll(record.instruction, ids);
      let max = 0;
      let sum = 0;
      for (const s of scores) {
        if (s > max) max = s;
        sum += s;
      }
      if (max > threshold) {
        reject("too-similar");
        continue;
      }
      const mostSimilar: Record<string, number> = {};
      for (const { index: i, score } of topScores(scores, 10)) mostSimilar[index.texts[i] as string] = score;
      const generated: GeneratedInstruction = {
        ...record,
        most_similar_instructions: mostSimilar,
        avg_similarity_score: scores.length > 0 ? sum / scores.length : 0,
      };
      index.add(record.instruction, ids);
      kept.push(generated);
      progress.kept++;
    }
    return kept;
  };

  const worker = async (): Promise<void> => {
    while (
      progress.kept < options.numInstructions &&
      fatal === null &&
      progress.requests < (options.maxRequests ?? Infinity) &&
      fruitless < maxFruitless
    ) {
      options.signal?.throwIfAborted();
      const examples = sampleWithoutReplacement(options.seedTasks, exampleCount, random);
      const prompt = encodeSelfInstructPrompt(options.promptText ?? ALPACA_SELF_INSTRUCT_PROMPT, examples);
      progress.requests++;
      try {
        const answer = await teacher.complete(
          {
            prompt,
            maxTokens: options.maxTokens ?? 3072,
            temperature: options.temperature ?? 1.0,
            topP: options.topP ?? 1.0,
            stop: STOP_SEQUENCES,
          },
          options.signal,
        );
        consecutiveFailures = 0;
        progress.promptTokens += answer.promptTokens;
        progress.completionTokens += answer.completionTokens;
        if (options.pricing) {
          progress.costUsd =
            (progress.promptTokens * options.pricing.promptPerMillion +
              progress.completionTokens * options.pricing.completionPerMillion) /
            1e6;
        }
        const kept = acceptAnswer(answer.text, answer.finishReason);
        // A teacher that only repeats itself would otherwise be asked forever.
        fruitless = kept.length > 0 ? 0 : fruitless + 1;
        writes = writes.then(() => store.append(kept));
        await writes;
        options.onProgress?.({ ...progress, rejected: { ...progress.rejected } });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        progress.failedRequests++;
        consecutiveFailures++;
        options.log?.(`request failed: ${(error as Error).message}`);
        // A refusal (bad key, unknown model) will not fix itself; nor will a long run of failures.
        const permanent =
          TeacherError.isInstance(error) && [401, 403, 404].includes((error as TeacherError).statusCode ?? 0);
        if (permanent || consecutiveFailures >= maxFailures || !TeacherError.isInstance(error)) fatal = error;
      }
    }
  };

  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  await writes;
  if (fatal !== null && progress.kept < options.numInstructions) {
    const reason = (fatal as Error).message;
    throw new TeacherError(
      `Generation stopped with ${progress.kept} of ${options.numInstructions} instructions (all kept ones are in ${options.outputPath}): ${reason}`,
      {
        cause: fatal,
        statusCode: (fatal as TeacherError).statusCode,
        url: (fatal as TeacherError).url,
      },
    );
  }
  const stoppedEarly =
    progress.kept >= options.numInstructions ? null : fruitless >= maxFruitless ? "fruitless" : "max-requests";
  if (stoppedEarly === "fruitless") options.log?.(`stopped: ${maxFruitless} answers in a row added no new instruction`);
  return { ...progress, rejected: { ...progress.rejected }, resumed, outputPath: options.outputPath, stoppedEarly };
}
