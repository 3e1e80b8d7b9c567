import type { CommandContext } from '../command.js';

/** Placeholder until the dedup benchmark lands. */
export async function runDedupBench(_args: string[], ctx: CommandContext): Promise<number> {
  ctx.stderr.write('llamats bench dedup: not available in this version yet.\n');
  return 2;
}
