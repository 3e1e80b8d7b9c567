import { ConfigError, IGNORE_INDEX } from "@llamats/core";
import { isChatRecord, isTokenizedRecord, type InstructionRecord } from "../dataset/records.js";
import type { PromptTemplate } from "../templates/prompt-template.js";
import { renderChatSegments, renderPrompt, type RenderedSegment } from "../templates/render-prompt.js";
import type { TrainingTokenizer } from "./training-tokenizer.js";

export type TokenizationMode = "joint" | "segmented";

export interface TokenizeForTrainingOptions {
  tokenizer: TrainingTokenizer;
  template: PromptTemplate;
  /** Longest row in tokens; longer examples are cut (EOS then falls off). */
  cutoffLen: number;
  /** Train on the prompt too; false (default) puts -100 over BOS and the prompt. */
  trainOnInputs?: boolean;
  /**
   * `joint` (default, Stanford Alpaca / alpaca-lora): the whole text is encoded once and the prompt alone
   * tells where labels start. `segmented`: prompt and response are encoded separately (each with the
   * tokenizer's dummy prefix) and concatenated.
   */
  tokenization?: TokenizationMode;
  /** Append EOS when there is room (default true). */
  addEos?: boolean;
}

export interface TokenizedExample {
  input_ids: number[];
  labels: number[];
}

// Chat templates often write the BOS text themselves; encoding then must not add a second one.
function startsWithBosText(text: string, tokenizer: TrainingTokenizer): boolean {
  if (tokenizer.bosTokenId === null || !tokenizer.idToToken) return false;
  const bos = tokenizer.idToToken(tokenizer.bosTokenId);
  return typeof bos === "string" && bos !== "" && text.startsWith(bos);
}

function jointIds(
  segments: RenderedSegment[],
  tokenizer: TrainingTokenizer,
  addSpecialTokens: boolean,
): { ids: number[]; trainedFrom: number[]; trainedTo: number[] } {
  const full = segments.map((s) => s.text).join("");
  const ids = tokenizer.encode(full, { addSpecialTokens });
  const trainedFrom: number[] = [];
  const trainedTo: number[] = [];
  let prefix = "";
  segments.forEach((segment, k) => {
    const start =
      k === 0
        ? addSpecialTokens && tokenizer.bosTokenId !== null
          ? 1
          : 0
        : tokenizer.encode(prefix, { addSpecialTokens }).length;
    prefix += segment.text;
    const end = k === segments.length - 1 ? ids.length : tokenizer.encode(prefix, { addSpecialTokens }).length;
    if (segment.trained) {
      trainedFrom.push(start);
      trainedTo.push(end);
    }
  });
  return { ids, trainedFrom, trainedTo };
}

function segmentedIds(
  segments: RenderedSegment[],
  tokenizer: TrainingTokenizer,
  addBos: boolean,
): { ids: number[]; trainedFrom: number[]; trainedTo: number[] } {
  const ids: number[] = addBos && tokenizer.bosTokenId !== null ? [tokenizer.bosTokenId] : [];
  const trainedFrom: number[] = [];
  const trainedTo: number[] = [];
  for (const segment of segments) {
    const start = ids.length;
    ids.push(...tokenizer.encode(segment.text, { addSpecialTokens: false }));
    if (segment.trained) {
      trainedFrom.push(start);
      trainedTo.push(ids.length);
    }
  }
  return { ids, trainedFrom, trainedTo };
}

function recordSegments(record: InstructionRecord, options: TokenizeForTrainingOptions): RenderedSegment[] {
  if (isChatRecord(record) && options.template.kind === "chat")
    return renderChatSegments(record.messages, options.tokenizer);
  const { prompt, response } = renderPrompt(options.template, record, { tokenizer: options.tokenizer });
  return [
    { text: prompt, trained: false },
    { text: response, trained: true },
  ];
}

/**
 * Turns a record into `input_ids` (BOS + prompt + response + EOS, cut to `cutoffLen`) and `labels`
 * (-100 over BOS and the prompt unless `trainOnInputs`). Pre-tokenized records are only cut.
 */
export function tokenizeForTraining(record: InstructionRecord, options: TokenizeForTrainingOptions): TokenizedExample {
  const { tokenizer, cutoffLen } = options;
  if (!Number.isInteger(cutoffLen) || cutoffLen < 1)
    throw new ConfigError(`cutoffLen must be a positive integer, found ${cutoffLen}`, { key: "cutoffLen" });
  if (isTokenizedRecord(record)) {
    const ids = record.input_ids.slice(0, cutoffLen);
    return { input_ids: ids, labels: (record.labels ?? record.input_ids).slice(0, cutoffLen) };
  }
  const segments = recordSegments(record, options);
  const addBos = !startsWithBosText(segments[0]?.text ?? "", tokenizer);
  const built =
    (options.tokenization ?? "joint") === "segmented"
      ? segmentedIds(segments, tokenizer, addBos)
      : jointIds(segments, tokenizer, addBos);
  const ids = built.ids.slice(0, cutoffLen);
  const eos = tokenizer.eosTokenId;
  const lastSegmentTrained = segments[segments.length - 1]?.trained ?? false;
  if ((options.addEos ?? true) && eos !== null && ids.length < cutoffLen && ids[ids.length - 1] !== eos) {
    ids.push(eos);
    // EOS belongs to the response: trained when the response is.
    if (lastSegmentTrained) built.trainedTo[built.trainedTo.length - 1] = ids.length;
  }
  if (options.trainOnInputs) return { input_ids: ids, labels: ids.slice() };
  const labels = new Array<number>(ids.length).fill(IGNORE_INDEX);
  built.trainedFrom.forEach((from, k) => {
    const to = Math.min(built.trainedTo[k] as number, ids.length);
    for (let t = from; t < to; t++) labels[t] = ids[t] as number;
  });
  return { input_ids: ids, labels };
}
