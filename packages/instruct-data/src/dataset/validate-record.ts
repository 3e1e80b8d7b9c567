import { parseKoalpacaText } from "./koalpaca-text.js";
import type { ChatMessage, DatasetFormat, InstructionRecord } from "./records.js";

/** What is wrong with one record: the field at fault (if one) and a sentence. */
export interface RecordProblem {
  field?: string;
  message: string;
}

export type RecordValidation = { ok: true; record: InstructionRecord } | { ok: false; problems: RecordProblem[] };

type RecordShape = "alpaca" | "seed-task" | "koalpaca-text" | "chat" | "sharegpt" | "tokenized";

const SHAREGPT_ROLES: Record<string, string> = {
  human: "user",
  user: "user",
  gpt: "assistant",
  assistant: "assistant",
  system: "system",
};

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length === 0 ? "an empty string" : "a string";
  return `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Which record shape an object has, judged by its fields. */
function detectShape(raw: Record<string, unknown>): RecordShape | null {
  if ("input_ids" in raw) return "tokenized";
  if ("messages" in raw) return "chat";
  if ("conversations" in raw) return "sharegpt";
  if ("instances" in raw) return "seed-task";
  if ("instruction" in raw || "output" in raw) return "alpaca";
  if ("text" in raw) return "koalpaca-text";
  return null;
}

const SHAPES_OF_FORMAT: Record<DatasetFormat, RecordShape[] | null> = {
  alpaca: ["alpaca", "seed-task"],
  koalpaca: ["alpaca", "koalpaca-text"],
  chat: ["chat", "sharegpt"],
  tokenized: ["tokenized"],
  jsonl: null,
};

function requireText(
  raw: Record<string, unknown>,
  field: string,
  problems: RecordProblem[],
  options: { optional?: boolean; nonEmpty?: boolean } = {},
): string {
  const value = raw[field];
  if (value === undefined || value === null) {
    // A null optional field (Parquet/Arrow's empty cell, Alpaca's `input`) reads as ''.
    if (options.optional) return "";
    problems.push({ field, message: value === null ? `"${field}" is null` : `"${field}" is missing` });
    return "";
  }
  if (typeof value !== "string") {
    problems.push({ field, message: `"${field}" must be a string, found ${describe(value)}` });
    return "";
  }
  if (options.nonEmpty && value.trim().length === 0) problems.push({ field, message: `"${field}" is empty` });
  return value;
}

function validateAlpaca(raw: Record<string, unknown>, problems: RecordProblem[]): InstructionRecord {
  const instruction = requireText(raw, "instruction", problems, { nonEmpty: true });
  const input = requireText(raw, "input", problems, { optional: true });
  const output = requireText(raw, "output", problems, { nonEmpty: true });
  return { instruction, input, output };
}

// Self-instruct seed tasks: {instruction, instances: [{input, output}, …]}; the first instance is the example.
function validateSeedTask(raw: Record<string, unknown>, problems: RecordProblem[]): InstructionRecord {
  const instruction = requireText(raw, "instruction", problems, { nonEmpty: true });
  const instances = raw.instances;
  if (!Array.isArray(instances) || instances.length === 0 || !isObject(instances[0])) {
    problems.push({
      field: "instances",
      message: `"instances" must be a non-empty array of {input, output}, found ${describe(instances)}`,
    });
    return { instruction, input: "", output: "" };
  }
  const first = instances[0];
  const sub: RecordProblem[] = [];
  const input = requireText(first, "input", sub, { optional: true });
  const output = requireText(first, "output", sub, { nonEmpty: true });
  for (const p of sub)
    problems.push({
      field: `instances[0].${p.field}`,
      message: p.message.replace(`"${p.field}"`, `"instances[0].${p.field}"`),
    });
  return { instruction, input, output };
}

function validateKoalpacaText(raw: Record<string, unknown>, problems: RecordProblem[]): InstructionRecord {
  const text = requireText(raw, "text", problems, { nonEmpty: true });
  if (problems.length > 0) return { instruction: "", input: "", output: "" };
  const parsed = parseKoalpacaText(text);
  if (!parsed) {
    problems.push({ field: "text", message: '"text" is not in the KoAlpaca form "### 질문: … ### 답변: …"' });
    return { instruction: "", input: "", output: "" };
  }
  if (parsed.instruction.trim() === "")
    problems.push({ field: "text", message: 'the "### 질문:" part of "text" is empty' });
  if (parsed.output.trim() === "") problems.push({ field: "text", message: 'the "### 답변:" part of "text" is empty' });
  return parsed;
}

function validateMessages(
  list: unknown,
  field: string,
  problems: RecordProblem[],
  keys: { role: string; content: string },
): ChatMessage[] {
  if (!Array.isArray(list) || list.length === 0) {
    problems.push({ field, message: `"${field}" must be a non-empty array of messages, found ${describe(list)}` });
    return [];
  }
  const messages: ChatMessage[] = [];
  list.forEach((item, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(item)) {
      problems.push({ field: at, message: `${at} must be an object, found ${describe(item)}` });
      return;
    }
    const role = item[keys.role];
    const content = item[keys.content];
    const mappedRole = typeof role === "string" ? (keys.role === "from" ? SHAREGPT_ROLES[role] : role) : undefined;
    if (typeof role !== "string" || role === "" || mappedRole === undefined) {
      problems.push({
        field: `${at}.${keys.role}`,
        message: `${at}.${keys.role} must be a role name, found ${typeof role === "string" ? JSON.stringify(role) : describe(role)}`,
      });
    }
    if (typeof content !== "string")
      problems.push({
        field: `${at}.${keys.content}`,
        message: `${at}.${keys.content} must be a string, found ${describe(content)}`,
      });
    messages.push({ role: mappedRole ?? "", content: typeof content === "string" ? content : "" });
  });
  if (messages.length > 0 && !messages.some((m) => m.role === "assistant")) {
    problems.push({ field, message: `"${field}" has no assistant message to train on` });
  }
  return messages;
}

function isTokenIdArray(value: unknown, allowIgnore: boolean): value is number[] {
  return (
    Array.isArray(value) &&
    value.every((v) => Number.isInteger(v) && ((v as number) >= 0 || (allowIgnore && v === -100)))
  );
}

function validateTokenized(raw: Record<string, unknown>, problems: RecordProblem[]): InstructionRecord {
  const ids = raw.input_ids;
  if (!isTokenIdArray(ids, false) || ids.length === 0) {
    problems.push({
      field: "input_ids",
      message: `"input_ids" must be a non-empty array of non-negative integers, found ${describe(ids)}`,
    });
    return { input_ids: [] };
  }
  if (raw.labels === undefined || raw.labels === null) return { input_ids: ids };
  if (!isTokenIdArray(raw.labels, true)) {
    problems.push({ field: "labels", message: '"labels" must be an array of token ids or -100' });
  } else if (raw.labels.length !== ids.length) {
    problems.push({
      field: "labels",
      message: `"labels" has ${raw.labels.length} entries but "input_ids" has ${ids.length}`,
    });
  } else {
    return { input_ids: ids, labels: raw.labels };
  }
  return { input_ids: ids };
}

/** Checks one raw record against a dataset format (`jsonl`: any known shape) and normalizes it. */
export function validateRecord(raw: unknown, format: DatasetFormat): RecordValidation {
  if (!isObject(raw))
    return { ok: false, problems: [{ message: `a record must be a JSON object, found ${describe(raw)}` }] };
  const shape = detectShape(raw);
  const allowed = SHAPES_OF_FORMAT[format];
  if (shape === null || (allowed !== null && !allowed.includes(shape))) {
    const keys = Object.keys(raw).slice(0, 8).join(", ") || "none";
    const expected =
      format === "alpaca"
        ? '"instruction" and "output"'
        : format === "koalpaca"
          ? '"instruction" and "output", or "text"'
          : format === "chat"
            ? '"messages"'
            : format === "tokenized"
              ? '"input_ids"'
              : '"instruction"/"output", "messages", "text" or "input_ids"';
    return { ok: false, problems: [{ message: `expected ${expected} in a ${format} record, found fields: ${keys}` }] };
  }
  const problems: RecordProblem[] = [];
  let record: InstructionRecord;
  switch (shape) {
    case "alpaca":
      record = validateAlpaca(raw, problems);
      break;
    case "seed-task":
      record = validateSeedTask(raw, problems);
      break;
    case "koalpaca-text":
      record = validateKoalpacaText(raw, problems);
      break;
    case "chat":
      record = { messages: validateMessages(raw.messages, "messages", problems, { role: "role", content: "content" }) };
      break;
    case "sharegpt":
      record = {
        messages: validateMessages(raw.conversations, "conversations", problems, { role: "from", content: "value" }),
      };
      break;
    case "tokenized":
      record = validateTokenized(raw, problems);
      break;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, record };
}
