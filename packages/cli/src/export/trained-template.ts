// The prompt template a fine-tune trained with, recorded beside its adapter (alpaca-lora's templates/*.json shape,
// plus the template's name) so that an export can give Ollama the same prompt format.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@llamats/core";
import { parseTemplateFile, type PromptTemplate } from "@llamats/instruct-data";
import { pathExists } from "../path-exists.js";

export const TRAINED_TEMPLATE_FILE = "prompt_template.json";

/** Writes `dir/prompt_template.json` for a text template (chat templates live in the tokenizer config). */
export async function writeTrainedTemplate(dir: string, template: PromptTemplate): Promise<void> {
  if (template.kind !== "text") return;
  const file = {
    name: template.name,
    description: template.description,
    prompt_input: template.promptInput,
    prompt_no_input: template.promptNoInput,
    response_split: template.responseSplit,
  };
  await writeFileAtomic(join(dir, TRAINED_TEMPLATE_FILE), `${JSON.stringify(file, null, 2)}\n`);
}

/** The template recorded in a local adapter or model folder, or null when it records none. */
export async function readTrainedTemplate(dir: string): Promise<PromptTemplate | null> {
  const path = join(dir, TRAINED_TEMPLATE_FILE);
  if (!(await pathExists(path))) return null;
  const json: unknown = JSON.parse(await readFile(path, "utf8"));
  const name = (json as { name?: unknown }).name;
  return parseTemplateFile(json, { name: typeof name === "string" ? name : TRAINED_TEMPLATE_FILE, file: path });
}
