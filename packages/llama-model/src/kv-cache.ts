import * as tf from "@tensorflow/tfjs-core";
import { writableData } from "./tensor-memory.js";

/** Positions the preallocated cache grows by: bounds the masked slots attention runs over to under this. */
const BLOCK = 64;

/**
 * Keys and values of every layer so far, [batch, kvHeads, length, headDim]; tensors outlive tidy scopes.
 * On backends whose memory we can write (wasm, cpu) the decode step appends in place into buffers with room
 * for more positions (`appendInPlace`): no concat copying the whole history each token.
 */
export class KvCache {
  private readonly keys: (tf.Tensor4D | null)[];
  private readonly values: (tf.Tensor4D | null)[];
  /** Positions each layer holds (layers run in turn, so within a step layer 0 is ahead of the rest). */
  private readonly lengths: number[];
  /** Layers whose buffers are preallocated (shape[2] = capacity >= filled). */
  private readonly inPlace: boolean[];

  /**
   * `reserve`: positions the whole generation will need (prompt + new tokens), if known. The fused decode step's
   * buffers (claimSlot) are sized for it at once instead of growing by BLOCK, which copies the history each time;
   * its attention reads only the filled positions, so room costs memory, not time.
   */
  constructor(
    numLayers: number,
    private readonly reserve = 0,
  ) {
    this.keys = new Array<tf.Tensor4D | null>(numLayers).fill(null);
    this.values = new Array<tf.Tensor4D | null>(numLayers).fill(null);
    this.inPlace = new Array<boolean>(numLayers).fill(false);
    this.lengths = new Array<number>(numLayers).fill(0);
  }

  /** Positions already held (0 before the first forward). */
  get length(): number {
    return this.lengths[0] ?? 0;
  }

  /** Appends this step's keys/values for one layer and returns the whole history (exactly `length` positions). */
  append(layer: number, key: tf.Tensor4D, value: tf.Tensor4D): { key: tf.Tensor4D; value: tf.Tensor4D } {
    if (this.inPlace[layer]) {
      const { key: k, value: v, length } = this.appendInPlace(layer, key, value);
      const [b, h, , d] = k.shape;
      return { key: tf.slice(k, [0, 0, 0, 0], [b, h, length, d]), value: tf.slice(v, [0, 0, 0, 0], [b, h, length, d]) };
    }
    const oldKey = this.keys[layer];
    const oldValue = this.values[layer];
    const nextKey = tf.keep(oldKey ? tf.concat([oldKey, key], 2) : key.clone());
    const nextValue = tf.keep(oldValue ? tf.concat([oldValue, value], 2) : value.clone());
    oldKey?.dispose();
    oldValue?.dispose();
    this.keys[layer] = nextKey;
    this.values[layer] = nextValue;
    this.lengths[layer] = nextKey.shape[2];
    return { key: nextKey, value: nextValue };
  }

  /**
   * Appends in place where the backend allows it and returns buffers of `capacity` positions whose first
   * `length` are filled (the rest are zeros: mask them). Elsewhere it appends by concat (capacity = length).
   */
  appendInPlace(
    layer: number,
    key: tf.Tensor4D,
    value: tf.Tensor4D,
  ): { key: tf.Tensor4D; value: tf.Tensor4D; length: number; capacity: number } {
    const past = this.lengths[layer];
    const n = key.shape[2];
    if (!this.inPlace[layer] && writableData(key) === null) {
      const { key: k, value: v } = this.append(layer, key, value);
      return { key: k, value: v, length: k.shape[2], capacity: k.shape[2] };
    }
    this.ensureCapacity(layer, past + n, key.shape);
    this.write(this.keys[layer]!, key, past);
    this.write(this.values[layer]!, value, past);
    this.lengths[layer] = past + n;
    return {
      key: this.keys[layer]!,
      value: this.values[layer]!,
      length: past + n,
      capacity: this.keys[layer]!.shape[2],
    };
  }

  /**
   * Claims the next position of a layer for one new token per row, in preallocated buffers [batch, kvHeads,
   * capacity, headDim]; the caller writes that position's keys and values itself (the fused wasm step).
   */
  claimSlot(
    layer: number,
    batch: number,
    kvHeads: number,
    headDim: number,
  ): { key: tf.Tensor4D; value: tf.Tensor4D; position: number; capacity: number } {
    const position = this.lengths[layer];
    this.ensureCapacity(layer, position + 1, [batch, kvHeads, 0, headDim], this.reserve);
    this.lengths[layer] = position + 1;
    return { key: this.keys[layer]!, value: this.values[layer]!, position, capacity: this.keys[layer]!.shape[2] };
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(null);
    this.values.fill(null);
    this.inPlace.fill(false);
    this.lengths.fill(0);
  }

  /** Makes the layer's buffers preallocated with room for `needed` positions (at least `reserve`), copying what they hold. */
  private ensureCapacity(layer: number, needed: number, shape: readonly number[], reserve = 0): void {
    const current = this.keys[layer];
    if (this.inPlace[layer] && current && current.shape[2] >= needed) return;
    const capacity = Math.max(Math.ceil(needed / BLOCK) * BLOCK, reserve);
    const [batch, heads, , dim] = shape;
    for (const store of [this.keys, this.values]) {
      const old = store[layer];
      const fresh = tf.keep(tf.zeros<tf.Rank.R4>([batch, heads, capacity, dim]));
      if (old) this.write(fresh, old, 0, this.lengths[layer]);
      old?.dispose();
      store[layer] = fresh;
    }
    this.inPlace[layer] = true;
  }

  /** Copies `count` positions of `source` [b, h, ≥count, d] into `target` [b, h, capacity, d] at `at`. */
  private write(target: tf.Tensor4D, source: tf.Tensor4D, at: number, count = source.shape[2]): void {
    const [batch, heads, capacity, dim] = target.shape;
    const srcLen = source.shape[2];
    const dst = writableData(target)!;
    const src = writableData(source)!;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        const row = b * heads + h;
        const from = src.offset + row * srcLen * dim;
        dst.array.set(src.array.subarray(from, from + count * dim), dst.offset + (row * capacity + at) * dim);
      }
    }
  }
}
