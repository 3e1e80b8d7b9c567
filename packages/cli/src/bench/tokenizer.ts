import type { CommandContext } from '../command.js';

/** Placeholder until the tokenizer benchmark lands. */
export async function runTokenizerBench(_args: string[], ctx: CommandContext): Promise<number> {
  ctx.stderr.write('llamats bench tokenizer: not available in this version yet.\n');
  return 2;
}
