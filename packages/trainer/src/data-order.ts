import { chunk } from "./micro-batches.js";
import { SeededRng, deriveSeed, permutation } from "./rng.js";

export interface DataOrderOptions {
  exampleCount: number;
  microBatchSize: number;
  gradientAccumulationSteps: number;
  /** Reshuffle every epoch (seeded by `seed` and the epoch); false keeps the file order. */
  shuffle: boolean;
  seed: number;
}

/**
 * Which examples each optimizer step of each epoch uses. An epoch's order depends only on
 * (seed, epoch), so a resumed run needs just the epoch and the step within it.
 */
export class DataOrder {
  readonly stepsPerEpoch: number;
  private cachedEpoch = -1;
  private cachedOrder: number[] = [];

  constructor(private readonly options: DataOrderOptions) {
    // The last step of an epoch may hold fewer examples (alpaca-lora / the trajectory's rule).
    this.stepsPerEpoch = Math.ceil(options.exampleCount / (options.microBatchSize * options.gradientAccumulationSteps));
  }

  /** The RNG state that produced `epoch`'s order (stored in checkpoints). */
  rngFor(epoch: number): SeededRng {
    return new SeededRng(deriveSeed(this.options.seed, epoch));
  }

  epochOrder(epoch: number): number[] {
    if (epoch !== this.cachedEpoch) {
      const n = this.options.exampleCount;
      this.cachedOrder = this.options.shuffle
        ? permutation(n, this.rngFor(epoch))
        : Array.from({ length: n }, (_, i) => i);
      this.cachedEpoch = epoch;
    }
    return this.cachedOrder;
  }

  /** The micro-batches (example indices) of step `stepInEpoch` (0-based) of `epoch`. */
  stepMicroBatches(epoch: number, stepInEpoch: number): number[][] {
    const perStep = this.options.microBatchSize * this.options.gradientAccumulationSteps;
    const order = this.epochOrder(epoch);
    return chunk(order.slice(stepInEpoch * perStep, (stepInEpoch + 1) * perStep), this.options.microBatchSize);
  }
}
