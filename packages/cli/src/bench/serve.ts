import type { CommandContext } from '../command.js';

/** Placeholder until the serve benchmark lands. */
export async function runServeBench(_args: string[], ctx: CommandContext): Promise<number> {
  ctx.stderr.write('llamats bench serve: not available in this version yet.\n');
  return 2;
}
