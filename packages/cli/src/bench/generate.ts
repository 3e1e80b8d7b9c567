import type { CommandContext } from '../command.js';

/** Placeholder until the generate benchmark lands. */
export async function runGenerateBench(_args: string[], ctx: CommandContext): Promise<number> {
  ctx.stderr.write('llamats bench generate: not available in this version yet.\n');
  return 2;
}
