import { LlamatsError } from "@llamats/core";
import type { CommandContext } from "./command.js";
import { errorLine } from "./error-line.js";
import { COMMANDS } from "./commands/registry.js";

const VERSION = "0.1.0";

async function helpText(): Promise<string> {
  const lines = [
    "llamats — your own small ChatGPT: LLaMA + LoRA on TensorFlow.js",
    "",
    "Usage: llamats <command> [options]",
    "",
    "Commands:",
  ];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const { command } = await load();
    lines.push(`  ${name.padEnd(10)} ${command.summary}`);
  }
  lines.push("", "Run `llamats <command> --help` for the options of one command.", "");
  return lines.join("\n");
}

/** Runs the CLI with the given arguments; returns the exit code. Errors become one clear paragraph. */
export async function runCli(argv: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    ctx.stdout.write(await helpText());
    return name ? 0 : 1;
  }
  if (name === "--version" || name === "-v") {
    ctx.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    ctx.stderr.write(`llamats: unknown command "${name}". Run \`llamats --help\` for the list.\n`);
    return 2;
  }
  const { command } = await load();
  const isHelp = (a: string | undefined): boolean => a === "--help" || a === "-h";
  if (isHelp(rest[0]) || (!command.handlesSubcommandHelp && rest.some(isHelp))) {
    ctx.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, ctx);
  } catch (error) {
    // Ctrl-C during a download or a load surfaces as an AbortError: say it stopped, not that it failed.
    if (ctx.signal.aborted && (error === ctx.signal.reason || (error as Error | undefined)?.name === "AbortError")) {
      ctx.stderr.write(`llamats ${name}: stopped (${errorLine(ctx.signal.reason)})\n`);
      return 130;
    }
    if (LlamatsError.isInstance(error) || (error instanceof TypeError && error.message.startsWith("Option"))) {
      ctx.stderr.write(`llamats ${name}: ${(error as Error).message}\n`);
      return 1;
    }
    if (error instanceof Error && (error as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      ctx.stderr.write(`llamats ${name}: ${error.message}\nRun \`llamats ${name} --help\` for the options.\n`);
      return 2;
    }
    if (error instanceof Error && process.env.LLAMATS_DEBUG !== "1") {
      ctx.stderr.write(`llamats ${name}: ${errorLine(error)} (LLAMATS_DEBUG=1 prints the stack trace)\n`);
      return 1;
    }
    throw error;
  }
}
