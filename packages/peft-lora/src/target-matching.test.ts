import { describe, expect, it } from "vitest";
import { createLoraConfig } from "./lora-config.js";
import { llamaLinearShapes, llamaParameterSizes, llamaShapeOf } from "./llama-shapes.js";
import {
  findMinimalTargetModules,
  isTargetModule,
  layerIndexOf,
  moduleTreeNames,
  resolveTargetModules,
} from "./target-matching.js";

const TINY = {
  hidden_size: 64,
  intermediate_size: 172,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 2000,
  model_type: "llama",
};

function tinyModules() {
  const shape = llamaShapeOf(TINY);
  const linearNames = llamaLinearShapes(shape).map((l) => l.name);
  const moduleNames = [...new Set([...moduleTreeNames(llamaParameterSizes(shape).keys()), ...linearNames])];
  return { linearNames, moduleNames };
}

describe("isTargetModule", () => {
  const key = "model.layers.1.self_attn.q_proj";
  it("matches a list by exact name or by .suffix, never by substring", () => {
    expect(isTargetModule(createLoraConfig({ target_modules: ["q_proj"] }), key)).toBe(true);
    expect(isTargetModule(createLoraConfig({ target_modules: ["self_attn.q_proj"] }), key)).toBe(true);
    expect(isTargetModule(createLoraConfig({ target_modules: [key] }), key)).toBe(true);
    expect(isTargetModule(createLoraConfig({ target_modules: ["proj"] }), key)).toBe(false);
  });

  it("matches a string as a regex over the whole name", () => {
    expect(isTargetModule(createLoraConfig({ target_modules: ".*\\.(q|v)_proj" }), key)).toBe(true);
    expect(isTargetModule(createLoraConfig({ target_modules: "q_proj" }), key)).toBe(false);
  });

  it("honours exclude_modules, layers_to_transform and modules_to_save", () => {
    expect(
      isTargetModule(
        createLoraConfig({ target_modules: ["q_proj"], exclude_modules: ["layers.1.self_attn.q_proj"] }),
        key,
      ),
    ).toBe(false);
    expect(
      isTargetModule(createLoraConfig({ target_modules: ["q_proj"], exclude_modules: ".*layers\\.1\\..*" }), key),
    ).toBe(false);
    expect(isTargetModule(createLoraConfig({ target_modules: ["q_proj"], layers_to_transform: [0] }), key)).toBe(false);
    expect(isTargetModule(createLoraConfig({ target_modules: ["q_proj"], layers_to_transform: 1 }), key)).toBe(true);
    expect(
      isTargetModule(
        createLoraConfig({ target_modules: ["q_proj"], layers_to_transform: [1], layers_pattern: "layers" }),
        key,
      ),
    ).toBe(true);
    expect(
      isTargetModule(createLoraConfig({ target_modules: ["lm_head"], modules_to_save: ["lm_head"] }), "lm_head"),
    ).toBe(false);
  });

  it("finds the layer index of the first numbered segment", () => {
    expect(layerIndexOf("model.layers.12.mlp.experts.3.up_proj", null)).toBe(12);
    expect(layerIndexOf("lm_head", null)).toBeNull();
  });
});

describe("resolveTargetModules", () => {
  it("uses PEFT's llama default (q_proj, v_proj) when target_modules is null", () => {
    const { linearNames, moduleNames } = tinyModules();
    const resolved = resolveTargetModules({
      config: createLoraConfig({}),
      linearNames,
      moduleNames,
      modelType: "llama",
    });
    expect(resolved.config.target_modules).toEqual(["q_proj", "v_proj"]);
    expect(resolved.modules).toEqual([
      "model.layers.0.self_attn.q_proj",
      "model.layers.0.self_attn.v_proj",
      "model.layers.1.self_attn.q_proj",
      "model.layers.1.self_attn.v_proj",
    ]);
  });

  it("all-linear takes every linear but lm_head and records the full names below 20 modules, as PEFT does", () => {
    const { linearNames, moduleNames } = tinyModules();
    const resolved = resolveTargetModules({
      config: createLoraConfig({ target_modules: "all-linear" }),
      linearNames,
      moduleNames,
    });
    expect(resolved.modules).toHaveLength(14);
    expect(resolved.modules).not.toContain("lm_head");
    expect(resolved.config.target_modules).toEqual(resolved.modules);
    expect(resolved.nonLinearMatches).toEqual([]);
  });

  it("condenses 20 or more targets to the minimal suffixes (LLaMA-7B all-linear → the seven projections)", () => {
    const shape = llamaShapeOf({ ...TINY, num_hidden_layers: 32 });
    const linearNames = llamaLinearShapes(shape).map((l) => l.name);
    const moduleNames = [...new Set([...moduleTreeNames(llamaParameterSizes(shape).keys()), ...linearNames])];
    const resolved = resolveTargetModules({
      config: createLoraConfig({ target_modules: "all-linear" }),
      linearNames,
      moduleNames,
    });
    expect([...(resolved.config.target_modules as string[])].sort()).toEqual([
      "down_proj",
      "gate_proj",
      "k_proj",
      "o_proj",
      "q_proj",
      "up_proj",
      "v_proj",
    ]);
    expect(resolved.modules).toHaveLength(224);
  });

  it("reports matches that are not linear layers", () => {
    const { linearNames, moduleNames } = tinyModules();
    const resolved = resolveTargetModules({
      config: createLoraConfig({ target_modules: ["embed_tokens", "q_proj"] }),
      linearNames,
      moduleNames,
    });
    expect(resolved.nonLinearMatches).toEqual(["model.embed_tokens"]);
  });
});

describe("findMinimalTargetModules", () => {
  it("reproduces PEFT's docstring example", () => {
    const targets = [
      ...Array.from({ length: 100 }, (_, i) => `model.decoder.layers.${i}.self_attn.q_proj`),
      ...Array.from({ length: 100 }, (_, i) => `model.decoder.layers.${i}.self_attn.v_proj`),
    ];
    const others = Array.from({ length: 100 }, (_, i) => `model.encoder.layers.${i}.self_attn.k_proj`);
    expect(findMinimalTargetModules(targets, others).sort()).toEqual(["q_proj", "v_proj"]);
  });
});
