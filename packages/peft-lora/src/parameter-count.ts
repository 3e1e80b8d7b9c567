import { ConfigError } from "@llamats/core";
import { createLoraConfig, type LoraConfig } from "./lora-config.js";
import { llamaLinearShapes, llamaParameterSizes, llamaShapeOf } from "./llama-shapes.js";
import { rankAndAlphaFor } from "./rank-pattern.js";
import { isModuleToSave, moduleTreeNames, resolveTargetModules } from "./target-matching.js";

/** PEFT's print_trainable_parameters numbers: adapter copies count toward the total. */
export interface TrainableParameterReport {
  trainable: number;
  total: number;
  /** 100 · trainable / total. */
  percent: number;
}

export function makeParameterReport(trainable: number, total: number): TrainableParameterReport {
  return { trainable, total, percent: total === 0 ? 0 : (100 * trainable) / total };
}

/** `trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622`, PEFT's line. */
export function formatParameterReport(report: TrainableParameterReport): string {
  const n = (value: number) => value.toLocaleString("en-US");
  return `trainable params: ${n(report.trainable)} || all params: ${n(report.total)} || trainable%: ${report.percent.toFixed(4)}`;
}

/**
 * What `getPeftModel(model, lora).trainableParameters()` would report, from the model's config alone
 * (a parsed LlamaConfig or a raw config.json object): nothing is allocated.
 */
export function loraParameterReport(modelConfig: object, lora: Partial<LoraConfig>): TrainableParameterReport {
  const shape = llamaShapeOf(modelConfig);
  const config = createLoraConfig(lora);
  const linears = llamaLinearShapes(shape);
  const sizes = llamaParameterSizes(shape);
  const linearNames = linears.map((linear) => linear.name);
  const moduleNames = [...new Set([...moduleTreeNames(sizes.keys()), ...linearNames])];
  const resolved = resolveTargetModules({ config, linearNames, moduleNames, modelType: shape.modelType });
  if (resolved.nonLinearMatches.length > 0) {
    throw new ConfigError(
      `LoRA targets only linear layers here; target_modules also matches ${resolved.nonLinearMatches.join(", ")}.`,
      { key: "target_modules" },
    );
  }
  const targets = new Set(resolved.modules);
  let loraParams = 0;
  for (const linear of linears) {
    if (!targets.has(linear.name)) continue;
    loraParams += rankAndAlphaFor(config, linear.name).rank * (linear.inFeatures + linear.outFeatures);
  }
  let extraTrainable = 0;
  let copies = 0;
  for (const [name, size] of sizes) {
    const moduleName = name.slice(0, name.lastIndexOf("."));
    if (isModuleToSave(config.modules_to_save, moduleName)) {
      // The trained copy sits beside the frozen original.
      extraTrainable += size;
      copies += size;
    } else if (
      name.endsWith(".bias") &&
      (config.bias === "all" || (config.bias === "lora_only" && targets.has(moduleName)))
    ) {
      extraTrainable += size;
    }
  }
  const base = [...sizes.values()].reduce((sum, size) => sum + size, 0);
  return makeParameterReport(loraParams + extraTrainable, base + loraParams + copies);
}

/** The number of parameters LoRA trains on this model, from its config alone. */
export function loraTrainableParameterCount(modelConfig: object, lora: Partial<LoraConfig>): number {
  return loraParameterReport(modelConfig, lora).trainable;
}
