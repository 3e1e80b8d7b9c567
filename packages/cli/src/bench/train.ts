import type { CommandContext } from '../command.js';

/** Placeholder until the train benchmark lands. */
export async function runTrainBench(_args: string[], ctx: CommandContext): Promise<number> {
  ctx.stderr.write('llamats bench train: not available in this version yet.\n');
  return 2;
}
