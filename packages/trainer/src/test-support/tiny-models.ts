// Test-only: llama1-tiny through the real packages (LlamaForCausalLM + PEFT LoRA), ready for the trainer.
import { LlamaForCausalLM } from "@llamats/llama-model";
import { PeftModel, getPeftModel } from "@llamats/peft-lora";
import { loadInitialWeights } from "../checkpoint.js";
import { loraTrainable, type TrainableModel } from "../trainable-model.js";
import { LLAMA1_TINY } from "./fixtures.js";

export interface TinyLoraSettings {
  r: number;
  alpha: number;
  dropout: number;
  targetModules: readonly string[];
}

/** A trainable model and how to free everything it holds (base weights and adapter). */
export interface LoadedTinyModel {
  model: TrainableModel;
  dispose: () => void;
}

function loaded(peft: PeftModel): LoadedTinyModel {
  return { model: loraTrainable(peft), dispose: () => peft.unload().dispose() };
}

/** llama1-tiny with a fresh LoRA adapter, its weights replaced by `adapterFile` when given (as --init-adapter does). */
export async function tinyLoraModel(lora: TinyLoraSettings, adapterFile?: string): Promise<LoadedTinyModel> {
  const base = await LlamaForCausalLM.fromPretrained(LLAMA1_TINY);
  const peft = getPeftModel(base, {
    r: lora.r,
    lora_alpha: lora.alpha,
    lora_dropout: lora.dropout,
    target_modules: [...lora.targetModules],
  });
  const result = loaded(peft);
  if (adapterFile) await loadInitialWeights(result.model, adapterFile);
  return result;
}

/** llama1-tiny with a saved PEFT adapter directory loaded for further training. */
export async function tinyPeftModel(adapterDir: string): Promise<LoadedTinyModel> {
  const base = await LlamaForCausalLM.fromPretrained(LLAMA1_TINY);
  return loaded(await PeftModel.fromPretrained(base, adapterDir, { isTrainable: true }));
}
