import * as tf from "@tensorflow/tfjs-core";
import { adamwUpdate, ShapeMismatchError, ValidationError } from "@llamats/core";

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (torch.optim.AdamW's `weight_decay`): `p -= lr * wd * p` before the Adam update. */
  weightDecay?: number;
}

/** One variable's moments, as plain arrays (what a checkpoint stores). */
export interface AdamWMoments {
  shape: number[];
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

export interface AdamWState {
  /** Updates done so far (the `t` of the bias corrections). */
  step: number;
  moments: Map<string, AdamWMoments>;
}

interface Slot {
  variable: tf.Variable;
  /** [2, ...shape]: exp_avg then exp_avg_sq, one tensor so that core's adamwUpdate updates both in one kernel. */
  moments: tf.Variable;
}

/** Zero-filled, non-trainable moments; the zeros they start from are freed (the variable keeps their data). */
function zeroMoments(like: tf.Variable): tf.Variable {
  const zeros = tf.zeros([2, ...like.shape]);
  const moments = tf.variable(zeros, false);
  zeros.dispose();
  return moments;
}

/**
 * AdamW with torch.optim.AdamW's semantics (bias-corrected moments, eps outside the square root,
 * decoupled weight decay). The learning rate is given per step so a schedule can drive it.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private stepCount = 0;
  private readonly slots = new Map<string, Slot>();

  constructor(variables: ReadonlyMap<string, tf.Variable>, options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    for (const [name, variable] of variables) {
      this.slots.set(name, { variable, moments: zeroMoments(variable) });
    }
  }

  get step(): number {
    return this.stepCount;
  }

  /** Applies one update with `grads` (by variable name) at learning rate `lr`. */
  applyGradients(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.stepCount += 1;
    const options = {
      lr,
      step: this.stepCount,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
    for (const [name, slot] of this.slots) {
      const grad = grads.get(name);
      if (!grad) throw new ValidationError(`AdamW: no gradient for trainable variable "${name}".`, { location: name });
      tf.tidy(() => {
        const updated = adamwUpdate(slot.variable, grad, slot.moments, options);
        slot.moments.assign(updated.moments);
        slot.variable.assign(updated.param);
      });
    }
  }

  /** The optimizer state as plain arrays, for a checkpoint. */
  async getState(): Promise<AdamWState> {
    const moments = new Map<string, AdamWMoments>();
    for (const [name, slot] of this.slots) {
      const both = (await slot.moments.data()) as Float32Array;
      const n = slot.variable.size;
      moments.set(name, { shape: slot.variable.shape.slice(), expAvg: both.slice(0, n), expAvgSq: both.slice(n) });
    }
    return { step: this.stepCount, moments };
  }

  /** Restores a state from `getState` (for resuming); every variable must be present with its shape. */
  setState(state: AdamWState): void {
    for (const [name, slot] of this.slots) {
      const saved = state.moments.get(name);
      if (!saved) throw new ValidationError(`Optimizer state has no moments for "${name}".`, { location: name });
      const expected = slot.variable.shape;
      if (saved.shape.length !== expected.length || saved.shape.some((d, i) => d !== expected[i])) {
        throw new ShapeMismatchError(
          `Optimizer state for "${name}" has shape [${saved.shape}], the variable has [${expected}].`,
          {
            tensor: name,
            expected: expected.slice(),
            found: saved.shape,
          },
        );
      }
      // assign() keeps its own reference: tidy frees the temporaries.
      const both = new Float32Array(2 * slot.variable.size);
      both.set(saved.expAvg);
      both.set(saved.expAvgSq, slot.variable.size);
      tf.tidy(() => slot.moments.assign(tf.tensor(both, [2, ...expected], "float32")));
    }
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const slot of this.slots.values()) slot.moments.dispose();
    this.slots.clear();
  }
}
