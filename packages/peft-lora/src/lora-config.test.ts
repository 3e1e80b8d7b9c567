import { readFileSync } from "node:fs";
import { ConfigError } from "@llamats/core";
import { describe, expect, it } from "vitest";
import { createLoraConfig, LORA_CONFIG_DEFAULTS, parseAdapterConfig, serializeAdapterConfig } from "./lora-config.js";

const FIXTURE_CONFIG = new URL("../test-fixtures/llama1-tiny-lora/adapter_config.json", import.meta.url);

describe("createLoraConfig", () => {
  it("fills PEFT's defaults", () => {
    const config = createLoraConfig({});
    expect(config).toMatchObject({
      r: 8,
      lora_alpha: 8,
      lora_dropout: 0,
      bias: "none",
      use_rslora: false,
      init_lora_weights: true,
      target_modules: null,
    });
  });

  it("drops duplicate targets as PEFT does (a set)", () => {
    expect(createLoraConfig({ target_modules: ["q_proj", "v_proj", "q_proj"] }).target_modules).toEqual([
      "q_proj",
      "v_proj",
    ]);
  });

  it("names the bad key", () => {
    expect(() => createLoraConfig({ r: 0 })).toThrow(/"r" must be a positive integer/);
    expect(() => createLoraConfig({ bias: "some" as never })).toThrow(ConfigError);
    try {
      createLoraConfig({ lora_dropout: 1.5 });
    } catch (error) {
      expect((error as ConfigError).key).toBe("lora_dropout");
    }
  });
});

describe("parseAdapterConfig", () => {
  it("reads PEFT 0.21's adapter_config.json, warning once about keys it does not know", () => {
    const json = JSON.parse(readFileSync(FIXTURE_CONFIG, "utf8")) as Record<string, unknown>;
    const warnings: string[] = [];
    const config = parseAdapterConfig({ ...json, some_future_key: 3 }, { logger: { warn: (m) => warnings.push(m) } });
    expect(config.r).toBe(8);
    expect(config.lora_alpha).toBe(16);
    expect([...(config.target_modules as string[])].sort()).toEqual([
      "down_proj",
      "gate_proj",
      "k_proj",
      "o_proj",
      "q_proj",
      "up_proj",
      "v_proj",
    ]);
    expect(config.task_type).toBe("CAUSAL_LM");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("some_future_key");
  });

  it("refuses PEFT features it cannot reproduce when they are switched on", () => {
    expect(() => parseAdapterConfig({ peft_type: "LORA", r: 4, target_modules: ["q_proj"], use_dora: true })).toThrow(
      /use_dora/,
    );
    expect(() => parseAdapterConfig({ peft_type: "PROMPT_TUNING" })).toThrow(/not a LoRA adapter/);
  });
});

describe("serializeAdapterConfig", () => {
  it("writes every field PEFT reads back, sorted like PEFT's JSON", () => {
    const json = serializeAdapterConfig({ ...LORA_CONFIG_DEFAULTS, target_modules: ["q_proj", "v_proj"] });
    for (const key of [
      "peft_type",
      "r",
      "lora_alpha",
      "target_modules",
      "use_rslora",
      "bias",
      "fan_in_fan_out",
      "task_type",
      "base_model_name_or_path",
    ]) {
      expect(json).toHaveProperty(key);
    }
    expect(Object.keys(json)).toEqual([...Object.keys(json)].sort());
    expect(json.use_dora).toBe(false);
  });
});
