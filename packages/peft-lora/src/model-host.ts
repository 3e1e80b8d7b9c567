import type * as tf from "@tensorflow/tfjs-core";

/** A layer mapping `[..., in]` to `[..., out]`; the model lets PEFT swap these (contract of @llamats/llama-model). */
export interface LinearLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  apply(x: tf.Tensor): tf.Tensor;
  /** Optional: apply(x) + addend in the layer's own kernel (llama-model's LinearLayer.applyAdd). */
  applyAdd?(x: tf.Tensor, addend: tf.Tensor): tf.Tensor;
}

/** A plain linear layer that exposes its weights (HF layout `[out, in]`), which merging writes into. */
export interface WeightedLinearLayer extends LinearLayer {
  weight: tf.Variable;
  bias: tf.Variable | null;
}

/** What LoRA needs from a model: named linear layers it can replace, and its parameters. */
export interface AdaptableModel {
  linearNames(): string[];
  getLinear(name: string): LinearLayer;
  setLinear(name: string, layer: LinearLayer): void;
  namedParameters(): Map<string, tf.Variable>;
  setTrainable(predicate: (name: string) => boolean): void;
  /** Frozen weights held packed (bf16/int8/nf4) by HF name, which nothing can train. */
  packedWeights?(): Map<string, unknown>;
}

export function isWeightedLinear(layer: LinearLayer): layer is WeightedLinearLayer {
  const weight = (layer as Partial<WeightedLinearLayer>).weight;
  return weight !== undefined && weight !== null && typeof weight.assign === "function";
}
