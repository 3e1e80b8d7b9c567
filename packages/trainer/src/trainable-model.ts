import type * as tf from "@tensorflow/tfjs-core";

/** What a causal LM's forward returns (the contract of `@llamats/llama-model`). */
export interface CausalLMOutput {
  logits: tf.Tensor3D;
  loss?: tf.Scalar;
}

export interface ForwardOptions {
  attentionMask?: tf.Tensor2D;
  labels?: tf.Tensor2D;
}

/** The one thing the trainer needs from a model: a differentiable forward pass over token ids. */
export interface CausalLM {
  forward(inputIds: tf.Tensor2D, options: ForwardOptions): CausalLMOutput;
}

/**
 * A model the trainer can fine-tune: LoRA (a PeftModel) and full fine-tuning (a LlamaForCausalLM)
 * both fit through `loraTrainable` / `fullTrainable`, and tests can implement it directly.
 */
export interface TrainableModel extends CausalLM {
  /** The variables to update, by the tensor names `save` writes them under. */
  namedTrainableVariables(): ReadonlyMap<string, tf.Variable>;
  /** Writes what training produced (a PEFT adapter, or full weights) into `dir`. */
  save(dir: string): Promise<void>;
  /** The safetensors file (or sharded index) inside a saved dir that holds the trainable tensors. */
  readonly weightsFile: string;
  /** Switch dropout on for training / off for evaluation, where the model has any. */
  train?(): void;
  eval?(): void;
}

/** The part of `@llamats/peft-lora`'s PeftModel the trainer uses. */
export interface PeftModelLike extends CausalLM {
  adapterVariables(): ReadonlyMap<string, tf.Variable>;
  savePretrained(dir: string): Promise<void>;
  train?(): void;
  eval?(): void;
}

/** The part of `@llamats/llama-model`'s LlamaForCausalLM the trainer uses for full fine-tuning. */
export interface CausalLMWithParameters extends CausalLM {
  namedParameters(): ReadonlyMap<string, tf.Variable>;
  trainableVariables(): tf.Variable[];
  savePretrained(dir: string, options?: { dtype?: "float32" }): Promise<void>;
}

/** LoRA fine-tuning: trains the adapter's variables and saves a PEFT adapter directory. */
export function loraTrainable(peft: PeftModelLike): TrainableModel {
  return {
    forward: (inputIds, options) => peft.forward(inputIds, options),
    namedTrainableVariables: () => peft.adapterVariables(),
    save: (dir) => peft.savePretrained(dir),
    weightsFile: "adapter_model.safetensors",
    train: () => peft.train?.(),
    eval: () => peft.eval?.(),
  };
}

/** Full fine-tuning: trains the model's trainable parameters (see `setTrainable`) and saves the whole model. */
export function fullTrainable(model: CausalLMWithParameters): TrainableModel {
  return {
    forward: (inputIds, options) => model.forward(inputIds, options),
    namedTrainableVariables: () => {
      const trainable = new Set(model.trainableVariables());
      const named = new Map<string, tf.Variable>();
      for (const [name, variable] of model.namedParameters()) if (trainable.has(variable)) named.set(name, variable);
      return named;
    },
    save: (dir) => model.savePretrained(dir, { dtype: "float32" }),
    weightsFile: "model.safetensors",
  };
}
