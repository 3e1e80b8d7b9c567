import * as tf from '@tensorflow/tfjs-core';

/** Keys and values of every layer so far, [batch, kvHeads, length, headDim]; tensors outlive tidy scopes. */
export class KvCache {
  private readonly keys: (tf.Tensor4D | null)[];
  private readonly values: (tf.Tensor4D | null)[];

  constructor(numLayers: number) {
    this.keys = new Array<tf.Tensor4D | null>(numLayers).fill(null);
    this.values = new Array<tf.Tensor4D | null>(numLayers).fill(null);
  }

  /** Positions already held (0 before the first forward). */
  get length(): number {
    return this.keys[0]?.shape[2] ?? 0;
  }

  /** Appends this step's keys/values for one layer and returns the whole history. */
  append(layer: number, key: tf.Tensor4D, value: tf.Tensor4D): { key: tf.Tensor4D; value: tf.Tensor4D } {
    const oldKey = this.keys[layer];
    const oldValue = this.values[layer];
    const nextKey = tf.keep(oldKey ? tf.concat([oldKey, key], 2) : key.clone());
    const nextValue = tf.keep(oldValue ? tf.concat([oldValue, value], 2) : value.clone());
    oldKey?.dispose();
    oldValue?.dispose();
    this.keys[layer] = nextKey;
    this.values[layer] = nextValue;
    return { key: nextKey, value: nextValue };
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(null);
    this.values.fill(null);
  }
}
