import * as tf from "@tensorflow/tfjs-core";
import { dropout, LlamatsError, matMul, nextDropoutSeed } from "@llamats/core";
import { applyPlus } from "@llamats/llama-model";
import { isWeightedLinear, type LinearLayer, type WeightedLinearLayer } from "./model-host.js";

/** One adapter's low-rank pair on one layer: y += B·A·dropout(x)·scaling. */
export interface LoraAdapterWeights {
  rank: number;
  alpha: number;
  scaling: number;
  dropout: number;
  /** `[r, in]`, PEFT's lora_A.weight. */
  loraA: tf.Variable;
  /** `[out, r]`, PEFT's lora_B.weight. */
  loraB: tf.Variable;
}

/** A base layer holding its weight in row chunks (llama-model's ChunkedLinear): merging adds the delta chunk by chunk. */
interface RowChunkedLayer {
  addToWeight(deltaRows: (start: number, rows: number) => tf.Tensor2D): void;
}

function isRowChunked(layer: LinearLayer): layer is LinearLayer & RowChunkedLayer {
  return typeof (layer as Partial<RowChunkedLayer>).addToWeight === "function";
}

/** A base layer whose weight is stored packed (llama-model's PackedLinear): merging first dequantizes it. */
interface DequantizableLayer {
  toDense(): WeightedLinearLayer;
}

function isDequantizable(layer: LinearLayer): layer is LinearLayer & DequantizableLayer {
  return typeof (layer as Partial<DequantizableLayer>).toDense === "function";
}

/** A linear layer wrapped with any number of named LoRA adapters, one of them active. */
export class LoraLinear implements LinearLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly adapters = new Map<string, LoraAdapterWeights>();
  activeAdapter: string | null = null;
  /** When true the layer is exactly its base layer. */
  disabled = false;
  /** Dropout is applied only while training. */
  training = true;
  private mergedAdapter: string | null = null;
  /** Set when merge replaced a packed (bf16/int8/nf4) base with its float32 dequantization: PEFT's 4-bit merge. */
  dequantizedBase = false;

  constructor(
    readonly moduleName: string,
    private baseLayer: LinearLayer,
    /** The base weight `[out, in]`, written into by merge; null when the base layer does not expose one. */
    private baseWeight: tf.Variable | null = isWeightedLinear(baseLayer) ? baseLayer.weight : null,
  ) {
    this.inFeatures = baseLayer.inFeatures;
    this.outFeatures = baseLayer.outFeatures;
  }

  /** The wrapped layer (after merging into a packed base: its float32 dequantization). */
  get base(): LinearLayer {
    return this.baseLayer;
  }

  /** Every variable the layer reads (gradient checkpointing routes gradients through these). */
  variables(): tf.Variable[] {
    const own = [...this.adapters.values()].flatMap((w) => [w.loraA, w.loraB]);
    const base = this.base as LinearLayer & { variables?: () => tf.Variable[] };
    const baseVariables =
      typeof base.variables === "function" ? base.variables() : this.baseWeight ? [this.baseWeight] : [];
    return [...baseVariables, ...own];
  }

  get merged(): boolean {
    return this.mergedAdapter !== null;
  }

  addAdapter(name: string, weights: LoraAdapterWeights): void {
    if (this.adapters.has(name)) throw new LlamatsError(`${this.moduleName} already has an adapter named "${name}".`);
    this.adapters.set(name, weights);
  }

  /** Disposes the adapter's variables; unmerges first if it is the merged one. */
  removeAdapter(name: string): void {
    const weights = this.adapters.get(name);
    if (!weights) return;
    if (this.mergedAdapter === name) this.unmerge();
    weights.loraA.dispose();
    weights.loraB.dispose();
    this.adapters.delete(name);
    if (this.activeAdapter === name) this.activeAdapter = null;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return this.forward(x);
  }

  /** apply(x) + addend, the addend carried through the base layer's kernel and the adapter's (a residual). */
  applyAdd(x: tf.Tensor, addend: tf.Tensor): tf.Tensor {
    return this.forward(x, addend);
  }

  private forward(x: tf.Tensor, addend?: tf.Tensor): tf.Tensor {
    const baseOutput = () => (addend ? applyPlus(this.base, x, addend) : this.base.apply(x));
    const weights = this.activeAdapter === null ? undefined : this.adapters.get(this.activeAdapter);
    if (this.disabled || this.merged || weights === undefined) return tf.tidy(baseOutput);
    return tf.tidy(() => {
      const result = baseOutput();
      const rows = tf.reshape(x, [-1, this.inFeatures]);
      // PEFT's lora_dropout on the input of A; the mask comes from core's dropout stream (one dispatch, replayable).
      const dropped =
        this.training && weights.dropout > 0 ? dropout(rows, { rate: weights.dropout, seed: nextDropoutSeed() }) : rows;
      const down = matMul(dropped, weights.loraA, { transposeB: true });
      // scaling · down·Bᵀ + base output in one kernel (on webgpu: one dispatch instead of three).
      const up = matMul(down, weights.loraB, {
        transposeB: true,
        alpha: weights.scaling,
        addend: tf.reshape(result, [-1, this.outFeatures]),
      });
      return tf.reshape(up, result.shape);
    });
  }

  /** B·A·scaling, `[out, in]`: what merging adds to the base weight. */
  deltaWeight(name: string): tf.Tensor2D {
    const weights = this.adapters.get(name);
    if (!weights) throw new LlamatsError(`${this.moduleName} has no adapter named "${name}".`);
    return tf.tidy(() => tf.mul<tf.Tensor2D>(tf.matMul(weights.loraB, weights.loraA), weights.scaling));
  }

  /** Adds the active adapter's delta into the base weight, so the forward pass costs nothing extra. */
  merge(): void {
    if (this.merged || this.activeAdapter === null || !this.adapters.has(this.activeAdapter)) return;
    if (this.baseWeight === null && isDequantizable(this.baseLayer)) {
      // Packed weights cannot take a float delta: merge into the dequantized float32 weight (the packed one is left
      // to its model, which drops it when the merged layer replaces it).
      const dense = this.baseLayer.toDense();
      this.baseLayer = dense;
      this.baseWeight = dense.weight;
      this.dequantizedBase = true;
    }
    if (this.baseWeight === null && isRowChunked(this.base)) {
      this.addRowsOfDelta(this.base, this.activeAdapter, 1);
      this.mergedAdapter = this.activeAdapter;
      return;
    }
    const weight = this.requireBaseWeight();
    const delta = this.deltaWeight(this.activeAdapter);
    const merged = tf.add(weight, delta);
    weight.assign(merged);
    delta.dispose();
    merged.dispose();
    this.mergedAdapter = this.activeAdapter;
  }

  /** Subtracts the merged delta again (as PEFT does; exact up to float32 rounding). */
  unmerge(): void {
    if (this.mergedAdapter === null) return;
    if (this.baseWeight === null && isRowChunked(this.base)) {
      this.addRowsOfDelta(this.base, this.mergedAdapter, -1);
      this.mergedAdapter = null;
      return;
    }
    const weight = this.requireBaseWeight();
    const delta = this.deltaWeight(this.mergedAdapter);
    const restored = tf.sub(weight, delta);
    weight.assign(restored);
    delta.dispose();
    restored.dispose();
    this.mergedAdapter = null;
  }

  /** sign · B[rows]·A·scaling into each weight chunk: the delta is never built bigger than one chunk. */
  private addRowsOfDelta(base: RowChunkedLayer, name: string, sign: 1 | -1): void {
    const weights = this.adapters.get(name)!;
    base.addToWeight((start, rows) =>
      tf.mul<tf.Tensor2D>(
        tf.matMul(tf.slice(weights.loraB, [start, 0], [rows, weights.loraB.shape[1]!]), weights.loraA),
        sign * weights.scaling,
      ),
    );
  }

  private requireBaseWeight(): tf.Variable {
    if (this.baseWeight === null) {
      throw new LlamatsError(`Cannot merge into ${this.moduleName}: its base layer exposes no weight variable.`);
    }
    return this.baseWeight;
  }
}
