import { lowbias32 } from "./ops/dropout-mask.js";

/** Where the stream stands: its seed and how many dropout seeds it has handed out. */
export interface DropoutStreamState {
  seed: number;
  counter: number;
}

// One stream for the process, like torch's default generator; seeded to 0 until someone seeds it.
let stream: DropoutStreamState = { seed: 0, counter: 0 };

/** Starts the stream afresh from `seed` (the trainer seeds it from its seed and the step, so a resume continues it). */
export function seedDropout(seed: number): void {
  stream = { seed: seed >>> 0, counter: 0 };
}

/** The next dropout mask's 32-bit seed; every call a different one. */
export function nextDropoutSeed(): number {
  const seed = lowbias32((lowbias32(stream.counter) + stream.seed) >>> 0);
  stream = { seed: stream.seed, counter: (stream.counter + 1) >>> 0 };
  return seed;
}

/** A copy of the stream's state, to replay the same seeds later (torch.get_rng_state's role). */
export function dropoutStreamState(): DropoutStreamState {
  return { ...stream };
}

/** Puts the stream back where `state` was: a recomputation then draws the masks the first pass drew. */
export function restoreDropoutStream(state: DropoutStreamState): void {
  stream = { ...state };
}
