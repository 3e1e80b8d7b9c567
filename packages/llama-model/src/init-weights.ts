import * as tf from '@tensorflow/tfjs-core';
import type { LlamaConfig } from './config.js';
import { expectedParameterShapes } from './parameter-shapes.js';

/** HF's _init_weights: weights ~ normal(0, initializer_range), biases 0, RMSNorm weights 1, the pad row of the embedding 0. */
export function initialParameters(config: LlamaConfig, seed?: number): Map<string, tf.Variable> {
  const params = new Map<string, tf.Variable>();
  let index = 0;
  for (const [name, shape] of expectedParameterShapes(config)) {
    const value = tf.tidy(() => {
      if (name.endsWith('norm.weight')) return tf.ones(shape);
      if (name.endsWith('.bias')) return tf.zeros(shape);
      // A distinct seed per tensor keeps tensors independent while the whole model stays reproducible.
      let w = tf.randomNormal(shape, 0, config.initializerRange, 'float32', seed === undefined ? undefined : seed + 7919 * index);
      if (name === 'model.embed_tokens.weight' && config.padTokenId !== null && config.padTokenId < config.vocabSize) {
        const keep = tf.reshape(tf.oneHot(tf.tensor1d([config.padTokenId], 'int32'), config.vocabSize), [config.vocabSize, 1]);
        w = tf.mul(w, tf.sub(1, keep));
      }
      return w;
    });
    params.set(name, tf.variable(value, true));
    value.dispose();
    index++;
  }
  return params;
}
