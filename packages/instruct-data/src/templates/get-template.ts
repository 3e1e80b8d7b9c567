import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { ConfigError, FormatError } from "@llamats/core";
import { BUILTIN_TEMPLATES } from "./builtin-templates.js";
import type { PromptTemplate, PromptTemplateFile } from "./prompt-template.js";

/** Turns a template file's JSON (alpaca-lora's shape) into a PromptTemplate, checking every field. */
export function parseTemplateFile(json: unknown, options: { name: string; file?: string }): PromptTemplate {
  const file = options.file ?? options.name;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new FormatError(
      `${file}: a template must be a JSON object with prompt_input, prompt_no_input and response_split`,
      { file },
    );
  }
  const raw = json as Partial<Record<keyof PromptTemplateFile, unknown>>;
  for (const key of ["prompt_input", "prompt_no_input", "response_split"] as const) {
    if (typeof raw[key] !== "string")
      throw new FormatError(`${file}: "${key}" must be a string, found ${JSON.stringify(raw[key]) ?? "nothing"}`, {
        file,
      });
  }
  if (!(raw.prompt_no_input as string).includes("{instruction}")) {
    throw new FormatError(`${file}: "prompt_no_input" has no {instruction} placeholder`, { file });
  }
  return {
    name: options.name,
    kind: "text",
    description: typeof raw.description === "string" ? raw.description : "",
    promptInput: raw.prompt_input as string,
    promptNoInput: raw.prompt_no_input as string,
    responseSplit: raw.response_split as string,
  };
}

/** A built-in template by name (`alpaca`, `alpaca_legacy`, `alpaca_short`, `vigogne`, `koalpaca`, `stanford_alpaca`, `chat`) or a JSON file path. */
export function getTemplate(nameOrPath: string): PromptTemplate {
  const builtin = BUILTIN_TEMPLATES[nameOrPath];
  if (builtin) return builtin;
  if (!/\.json$/i.test(nameOrPath) && !nameOrPath.includes("/") && !nameOrPath.includes("\\")) {
    throw new ConfigError(
      `Unknown template "${nameOrPath}"; built-in ones are ${Object.keys(BUILTIN_TEMPLATES).join(", ")}, or give a .json file`,
      { key: "template" },
    );
  }
  let text: string;
  try {
    text = readFileSync(nameOrPath, "utf8");
  } catch (error) {
    throw new ConfigError(`Template file ${nameOrPath} cannot be read: ${(error as Error).message}`, {
      key: "template",
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${nameOrPath}: not valid JSON: ${(error as Error).message}`, {
      file: nameOrPath,
      cause: error,
    });
  }
  return parseTemplateFile(json, { name: basename(nameOrPath).replace(/\.json$/i, ""), file: nameOrPath });
}

/** Names of the built-in templates. */
export function listTemplates(): string[] {
  return Object.keys(BUILTIN_TEMPLATES);
}
