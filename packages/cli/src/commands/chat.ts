import { createInterface, type Interface } from "node:readline";
import { parseArgs } from "node:util";
import { getTemplate, renderTextPrompt } from "@llamats/instruct-data";
import type { GenerateOptions } from "@llamats/llama-model";
import type { Command, CommandContext } from "../command.js";
import { BACKEND_USAGE } from "../backend-option.js";
import { WEIGHTS_USAGE } from "../weights-option.js";
import { MODEL_OPTIONS, loadCliModel, samplingOptions, type CliTokenizer } from "./generate.js";

const USAGE = `llamats chat <model> [--adapter <dir|repo>] [options]

Chat with a model in the terminal, the reply streaming as it is generated. Uses the tokenizer's chat
template when it has one, else alpaca-lora's \`alpaca\` prompt template (the one \`llamats finetune\` and
\`llamats demo\` train with). Alpaca prompts are one turn each, as in alpaca-lora's generate.py; write an
input after "Input:" on the same line, e.g. \`Is this number even or odd? Input: 4817\`.

In the chat: Ctrl-C stops the reply (at the prompt it quits), /reset forgets the conversation, /exit or Ctrl-D quits.

Options:
  --adapter <dir|repo>         apply a PEFT LoRA adapter (e.g. one made by \`llamats finetune\`)
  --system <text>              a system message (chat-template models)
  --max-new-tokens <n>         reply length limit (default 256)
  --temperature <t>            sampling temperature (default 0.7; 0 = greedy)
  --top-p <p>                  nucleus sampling (default 0.9)
  --top-k <k>                  keep only the k most likely tokens
  --repetition-penalty <r>     HF repetition penalty (default 1.1)
  --seed <n>                   seed for sampling
  --stop <text>                extra stop text (repeatable)
  --revision <rev>             Hub branch, tag or commit
  --offline                    use only the local Hub cache
${WEIGHTS_USAGE}
${BACKEND_USAGE}`;

export type Turn = { role: "system" | "user" | "assistant"; content: string };

const ALPACA_STOPS = ["### Instruction:", "### Response:"];

/** Splits `instruction Input: input` into alpaca's two fields (no marker: no input). */
export function splitInstructionInput(line: string): { instruction: string; input: string } {
  const match = /^(.*?)\s*\bInput:\s*(.*)$/s.exec(line.trim());
  return match
    ? { instruction: (match[1] ?? "").trim(), input: (match[2] ?? "").trim() }
    : { instruction: line.trim(), input: "" };
}

/** The prompt text for the conversation so far, ending where the assistant's reply starts. */
export function promptText(tokenizer: Pick<CliTokenizer, "chatTemplate" | "applyChatTemplate">, turns: Turn[]): string {
  if (tokenizer.chatTemplate && tokenizer.applyChatTemplate)
    return tokenizer.applyChatTemplate(turns, { addGenerationPrompt: true });
  // alpaca-lora's template has no history: the last instruction alone, rendered exactly as training rendered it.
  const last = [...turns].reverse().find((turn) => turn.role === "user");
  const { instruction, input } = splitInstructionInput(last?.content ?? "");
  return renderTextPrompt(getTemplate("alpaca"), instruction, input);
}

/** Resolves when the signal aborts (at once if it has). */
function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) done();
    else signal.addEventListener("abort", () => done(), { once: true });
  });
}

/** Next line from the user, or null at end of input (Ctrl-D / closed pipe) or once `signal` aborts. */
async function ask(
  rl: Interface,
  lines: AsyncIterator<string>,
  out: CommandContext["stdout"],
  signal: AbortSignal,
): Promise<string | null> {
  out.write("\n");
  rl.setPrompt("> ");
  rl.prompt();
  // The async iterator buffers lines, so piped input that arrives during a reply is not lost (rl.question would drop it).
  const next = await Promise.race([lines.next(), whenAborted(signal).then(() => null)]);
  return next === null || next.done ? null : next.value;
}

export const command: Command = {
  name: "chat",
  summary: "Chat with a model (optionally with a LoRA adapter) in the terminal",
  usage: USAGE,
  async run(args: string[], ctx: CommandContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { ...MODEL_OPTIONS, system: { type: "string" } },
    });
    const [model, ...extra] = positionals;
    if (!model || extra.length > 0) {
      ctx.stderr.write("llamats chat: give one model, e.g. `llamats chat ./my-model --adapter ./my-adapter`.\n");
      return 2;
    }
    const withDefaults = {
      temperature: "0.7",
      "top-p": "0.9",
      "repetition-penalty": "1.1",
      "max-new-tokens": "256",
      ...Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)),
    };
    ctx.stderr.write(`Loading ${model}${values.adapter ? ` with adapter ${values.adapter}` : ""}…\n`);
    const { llama, tokenizer, defaults } = await loadCliModel(model, values, ctx);
    if (!tokenizer) {
      llama.dispose();
      ctx.stderr.write(
        `llamats chat: ${model} has no tokenizer files (tokenizer.json or tokenizer.model), so it cannot chat.\n`,
      );
      return 1;
    }
    const sampling = samplingOptions(withDefaults, defaults);
    const turns: Turn[] = values.system ? [{ role: "system", content: values.system }] : [];
    const rl = createInterface({
      input: process.stdin,
      output: ctx.stdout,
      terminal: Boolean((process.stdin as { isTTY?: boolean }).isTTY),
    });
    let reply: AbortController | null = null;
    const binHandlers = process.listeners("SIGINT");
    // Ctrl-C stops the reply being generated; at the prompt (or pressed again) it goes to the bin's handlers, which end the chat.
    const onInterrupt = () => {
      if (reply && !reply.signal.aborted) reply.abort();
      else for (const handler of binHandlers) handler("SIGINT");
    };
    process.removeAllListeners("SIGINT");
    process.on("SIGINT", onInterrupt);
    rl.on("SIGINT", onInterrupt);
    const lines = rl[Symbol.asyncIterator]();
    ctx.stdout.write("Chat started. /reset forgets the conversation, /exit quits, Ctrl-C stops a reply.\n");
    try {
      for (;;) {
        const line = await ask(rl, lines, ctx.stdout, ctx.signal);
        if (line === null || line.trim() === "/exit") break;
        if (line.trim() === "/reset") {
          turns.splice(values.system ? 1 : 0);
          ctx.stdout.write("(conversation forgotten)\n");
          continue;
        }
        if (!line.trim()) continue;
        turns.push({ role: "user", content: line });
        const prompt = tokenizer.encode(promptText(tokenizer, turns), { addSpecialTokens: !tokenizer.chatTemplate });
        reply = new AbortController();
        const options: GenerateOptions = {
          ...sampling,
          tokenizer,
          // SIGTERM (the bin's signal) stops the reply too.
          signal: AbortSignal.any([reply.signal, ctx.signal]),
          stopStrings: [...(sampling.stopStrings ?? []), ...(tokenizer.chatTemplate ? [] : ALPACA_STOPS)],
        };
        let text = "";
        for await (const piece of llama.generateStream(prompt, options)) {
          ctx.stdout.write(piece.text);
          text += piece.text;
        }
        if (reply.signal.aborted || ctx.signal.aborted) ctx.stdout.write(" [stopped]");
        ctx.stdout.write("\n");
        reply = null;
        let answer = text;
        for (const stop of options.stopStrings ?? []) answer = answer.split(stop)[0];
        turns.push({ role: "assistant", content: answer.trim() });
        if (ctx.signal.aborted) break;
      }
      return ctx.signal.aborted ? 130 : 0;
    } finally {
      rl.close();
      process.off("SIGINT", onInterrupt);
      for (const handler of binHandlers) process.on("SIGINT", handler as () => void);
      llama.dispose();
    }
  },
};
