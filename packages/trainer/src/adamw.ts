import * as tf from "@tensorflow/tfjs-core";
import { ShapeMismatchError, ValidationError } from "@llamats/core";

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
  expAvg: tf.Variable;
  expAvgSq: tf.Variable;
}

/** A zero-filled, non-trainable moment variable; the zeros it starts from are freed (the variable keeps their data). */
function zeroMoment(like: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(like);
  const moment = tf.variable(zeros, false);
  zeros.dispose();
  return moment;
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
      this.slots.set(name, {
        variable,
        expAvg: zeroMoment(variable),
        expAvgSq: zeroMoment(variable),
      });
    }
  }

  get step(): number {
    return this.stepCount;
  }

  /** Applies one update with `grads` (by variable name) at learning rate `lr`. */
  applyGradients(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    this.stepCount += 1;
    const t = this.stepCount;
    const biasCorrection1 = 1 - this.beta1 ** t;
    const biasCorrection2Sqrt = Math.sqrt(1 - this.beta2 ** t);
    const stepSize = lr / biasCorrection1;
    for (const [name, slot] of this.slots) {
      const grad = grads.get(name);
      if (!grad) throw new ValidationError(`AdamW: no gradient for trainable variable "${name}".`, { location: name });
      tf.tidy(() => {
        const decayed =
          this.weightDecay !== 0 && lr !== 0 ? tf.mul(slot.variable, 1 - lr * this.weightDecay) : slot.variable;
        const expAvg = tf.add(tf.mul(slot.expAvg, this.beta1), tf.mul(grad, 1 - this.beta1));
        const expAvgSq = tf.add(tf.mul(slot.expAvgSq, this.beta2), tf.mul(tf.square(grad), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(expAvgSq), biasCorrection2Sqrt), this.epsilon);
        const updated = tf.sub(decayed, tf.mul(tf.div(expAvg, denom), stepSize));
        slot.expAvg.assign(expAvg);
        slot.expAvgSq.assign(expAvgSq);
        slot.variable.assign(updated);
      });
    }
  }

  /** The optimizer state as plain arrays, for a checkpoint. */
  async getState(): Promise<AdamWState> {
    const moments = new Map<string, AdamWMoments>();
    for (const [name, slot] of this.slots) {
      moments.set(name, {
        shape: slot.variable.shape.slice(),
        expAvg: (await slot.expAvg.data()) as Float32Array,
        expAvgSq: (await slot.expAvgSq.data()) as Float32Array,
      });
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
      tf.tidy(() => {
        slot.expAvg.assign(tf.tensor(saved.expAvg, expected, "float32"));
        slot.expAvgSq.assign(tf.tensor(saved.expAvgSq, expected, "float32"));
      });
    }
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.expAvg.dispose();
      slot.expAvgSq.dispose();
    }
    this.slots.clear();
  }
}
