import * as tf from "@tensorflow/tfjs-core";
import { dropoutStreamState, frugalGradients, restoreDropoutStream } from "@llamats/core";
import type { LinearLayer } from "./linear.js";

/** Trainable variables reachable from a layer: its variables() if it has one, else its own properties, a few levels deep. */
export function collectVariables(layer: LinearLayer | tf.Tensor): tf.Variable[] {
  if (layer instanceof tf.Variable) return [layer as tf.Variable];
  if (layer instanceof tf.Tensor) return [];
  if (typeof layer.variables === "function") return layer.variables();
  const found = new Set<tf.Variable>();
  const seen = new Set<unknown>();
  const walk = (value: unknown, depth: number): void => {
    if (value === null || typeof value !== "object" || seen.has(value) || depth > 4) return;
    seen.add(value);
    if (value instanceof tf.Variable) {
      found.add(value as tf.Variable);
      return;
    }
    if (value instanceof tf.Tensor) return;
    const children = value instanceof Map ? [...value.values()] : Array.isArray(value) ? value : Object.values(value);
    for (const child of children) walk(child, depth + 1);
  };
  walk(layer, 0);
  return [...found];
}

/**
 * Runs `block(x, ...constants)` without keeping its activations for backprop: the backward pass recomputes
 * it and differentiates w.r.t. x and `variables` (passed as inputs so the outer tape routes their gradients).
 * `constants` (rotary tables, mask) are saved rather than captured, since the caller's tidy frees them. Dropout
 * inside the block draws the same masks again: the dropout stream is replayed from where the forward pass found it.
 */
export function checkpointed(
  block: (x: tf.Tensor, ...constants: tf.Tensor[]) => tf.Tensor,
  x: tf.Tensor,
  constants: readonly tf.Tensor[],
  variables: readonly tf.Variable[],
): tf.Tensor {
  const trainable = variables.filter((v) => v.trainable);
  const count = constants.length;
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, 1 + count) as tf.Tensor[];
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save(inputs);
    // The recomputation must draw the masks this pass draws (torch's checkpoint preserves its RNG state likewise).
    const dropoutState = dropoutStreamState();
    const value = tf.tidy(() => block(inputs[0], ...inputs.slice(1)));
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const seed = Array.isArray(dy) ? dy[0] : dy;
        const [input, ...consts] = saved;
        const current = dropoutStreamState();
        restoreDropoutStream(dropoutState);
        let grads: (tf.Tensor | null)[];
        try {
          const recomputed = frugalGradients(() => block(input, ...consts), [input, ...trainable], seed, true);
          recomputed.value.dispose();
          grads = recomputed.grads;
        } finally {
          restoreDropoutStream(current);
        }
        const inputGrads = [grads[0] ?? tf.zerosLike(input), ...consts.map((c) => tf.zerosLike(c))];
        return [...inputGrads, ...grads.slice(1).map((g, i) => g ?? tf.zerosLike(trainable[i]))];
      },
    };
  });
  return run(x, ...constants, ...trainable);
}
