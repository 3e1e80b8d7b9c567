/** Prefix of every LoRA key in a PEFT adapter file (PeftModel → LoraModel → the transformers model). */
export const PEFT_KEY_PREFIX = "base_model.model.";

export type LoraMatrix = "lora_A" | "lora_B";

/** `model.layers.0.self_attn.q_proj` + `lora_A` → `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`. */
export function loraKey(moduleName: string, matrix: LoraMatrix): string {
  return `${PEFT_KEY_PREFIX}${moduleName}.${matrix}.weight`;
}

/** A base-model parameter saved with the adapter (biases, modules_to_save): `lm_head.weight` → `base_model.model.lm_head.weight`. */
export function baseParameterKey(parameterName: string): string {
  return `${PEFT_KEY_PREFIX}${parameterName}`;
}

/** Splits a LoRA key into module and matrix; null for any other key. */
export function parseLoraKey(key: string): { moduleName: string; matrix: LoraMatrix } | null {
  const match = /^base_model\.model\.(.+)\.(lora_A|lora_B)\.weight$/.exec(key);
  return match ? { moduleName: match[1], matrix: match[2] as LoraMatrix } : null;
}
