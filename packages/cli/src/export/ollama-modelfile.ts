// An Ollama Modelfile for an exported GGUF: the prompt template the model was fine-tuned with, in Ollama's Go template
// syntax, and stop parameters for the EOS token and the template's section headers.
import { ConfigError } from "@llamats/core";
import { renderTextPrompt, type PromptTemplate } from "@llamats/instruct-data";

// A placeholder no template holds: rendered in the instruction's place, then swapped for Ollama's {{ .Prompt }}.
const SLOT = "\u0000llamats-prompt\u0000";

/** Literal text inside a Go template: `{{` would open an action, so it is written as an action printing "{{". */
function goTemplateLiteral(text: string): string {
  return text.replaceAll("{{", '{{ "{{" }}');
}

function quoted(value: string): string {
  return JSON.stringify(value);
}

/** Section headers such as `### Instruction:` and `### Response:`: where a reply running on would start a new turn. */
function sectionHeaders(template: PromptTemplate): string[] {
  const headers = new Set<string>();
  for (const text of [template.promptNoInput, template.promptInput, template.responseSplit]) {
    for (const match of text.matchAll(/^#{2,}[^\n]*:[ \t]*$/gm)) headers.add(match[0].trim());
  }
  return [...headers];
}

export interface OllamaModelfileOptions {
  /** The GGUF file, as FROM names it (relative to the Modelfile). */
  ggufFile: string;
  template: PromptTemplate;
  /** The EOS token's text, e.g. `</s>`. */
  eosToken: string | undefined;
}

/**
 * The Modelfile text. Ollama sends one prompt per turn, so the template's no-input form is used (an input belongs in
 * the prompt text); a chat-kind template is refused: the GGUF's tokenizer.chat_template already serves chat models.
 */
export function ollamaModelfile(options: OllamaModelfileOptions): string {
  const { template } = options;
  if (template.kind !== "text") {
    throw new ConfigError(
      `--ollama: template "${template.name}" is a chat template; Ollama reads chat models' template from the GGUF's tokenizer.chat_template, so give --template with the text template the model was trained with`,
      { key: "template" },
    );
  }
  const rendered = goTemplateLiteral(renderTextPrompt(template, SLOT)).replace(SLOT, "{{ .Prompt }}");
  if (rendered.includes('"""')) {
    throw new ConfigError(`--ollama: template "${template.name}" holds """, which a Modelfile TEMPLATE cannot quote`, {
      key: "template",
    });
  }
  const stops = [...(options.eosToken ? [options.eosToken] : []), ...sectionHeaders(template)];
  return [
    `# Written by llamats export gguf: the "${template.name}" prompt template the model was fine-tuned with.`,
    `FROM ./${options.ggufFile}`,
    `TEMPLATE """${rendered}"""`,
    ...stops.map((stop) => `PARAMETER stop ${quoted(stop)}`),
    "",
  ].join("\n");
}
