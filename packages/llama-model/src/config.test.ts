import { ConfigError } from "@llamats/core";
import { describe, expect, it } from "vitest";
import { llamaConfigToJson, parseLlamaConfig } from "./config.js";
import { computeInvFreq } from "./rope.js";
import { LLAMA1_SMALL, LLAMA3_SMALL } from "./testing/tiny-configs.js";

function keyOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (error) {
    expect(ConfigError.isInstance(error)).toBe(true);
    return (error as ConfigError).key;
  }
  throw new Error("expected a ConfigError");
}

describe("parseLlamaConfig", () => {
  it("reads the 4.x form (rope_theta, rope_scaling null) with defaults", () => {
    const c = parseLlamaConfig(LLAMA1_SMALL);
    expect(c.headDim).toBe(8);
    expect(c.numKeyValueHeads).toBe(4);
    expect(c.ropeScaling).toEqual({ ropeType: "default" });
    expect(c.ropeTheta).toBe(10000);
    expect(c.tieWordEmbeddings).toBe(false);
    expect(c.eosTokenId).toBe(2);
  });

  it("reads the 5.x form (rope_parameters) with GQA, head_dim, tied embeddings and llama3 scaling", () => {
    const c = parseLlamaConfig(LLAMA3_SMALL);
    expect(c.numKeyValueHeads).toBe(2);
    expect(c.headDim).toBe(8);
    expect(c.tieWordEmbeddings).toBe(true);
    expect(c.ropeTheta).toBe(500000);
    expect(c.ropeScaling).toEqual({
      ropeType: "llama3",
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 32,
      originalMaxPositionEmbeddings: 256,
    });
    expect(c.eosTokenId).toEqual([2, 3]);
  });

  it('reads 4.x rope_scaling with the old "type" key (linear, dynamic)', () => {
    expect(parseLlamaConfig({ ...LLAMA1_SMALL, rope_scaling: { type: "linear", factor: 2 } }).ropeScaling).toEqual({
      ropeType: "linear",
      factor: 2,
    });
    expect(parseLlamaConfig({ ...LLAMA1_SMALL, rope_scaling: { type: "dynamic", factor: 2 } }).ropeScaling).toEqual({
      ropeType: "dynamic",
      factor: 2,
      originalMaxPositionEmbeddings: 64,
    });
  });

  it("names the key of an invalid or unsupported value", () => {
    expect(keyOf(() => parseLlamaConfig({ ...LLAMA1_SMALL, hidden_size: "big" }))).toBe("hidden_size");
    expect(keyOf(() => parseLlamaConfig({ ...LLAMA1_SMALL, num_key_value_heads: 3 }))).toBe("num_key_value_heads");
    expect(keyOf(() => parseLlamaConfig({ ...LLAMA1_SMALL, rope_scaling: { rope_type: "yarn", factor: 2 } }))).toBe(
      "rope_scaling.rope_type",
    );
    expect(keyOf(() => parseLlamaConfig({ ...LLAMA1_SMALL, rope_scaling: { rope_type: "linear" } }))).toBe(
      "rope_scaling.factor",
    );
    expect(
      keyOf(() => parseLlamaConfig({ ...LLAMA3_SMALL, rope_parameters: { rope_type: "llama3", factor: 8 } })),
    ).toBe("rope_parameters.low_freq_factor");
    expect(keyOf(() => parseLlamaConfig({ ...LLAMA1_SMALL, hidden_act: "gelu" }))).toBe("hidden_act");
    expect(keyOf(() => parseLlamaConfig({ ...LLAMA1_SMALL, model_type: "mistral" }))).toBe("model_type");
    expect(keyOf(() => parseLlamaConfig({ ...LLAMA1_SMALL, vocab_size: undefined }))).toBe("vocab_size");
  });

  it("round-trips through llamaConfigToJson", () => {
    const c = parseLlamaConfig(LLAMA3_SMALL);
    const again = parseLlamaConfig(llamaConfigToJson(c));
    expect({ ...again, raw: null }).toEqual({ ...c, raw: null });
  });
});

describe("rotary inverse frequencies", () => {
  // Independent float64 statement of the formulas in transformers' modeling_rope_utils.
  const base = (theta: number, dim: number) => Array.from({ length: dim / 2 }, (_, i) => 1 / theta ** ((2 * i) / dim));

  it("default and linear", () => {
    const c = parseLlamaConfig(LLAMA1_SMALL);
    const inv = computeInvFreq(c);
    base(10000, 8).forEach((v, i) => expect(inv[i]).toBeCloseTo(v, 6));
    const lin = computeInvFreq(parseLlamaConfig({ ...LLAMA1_SMALL, rope_scaling: { rope_type: "linear", factor: 4 } }));
    base(10000, 8).forEach((v, i) => expect(lin[i]).toBeCloseTo(v / 4, 6));
  });

  it("dynamic NTK changes the base only past max_position_embeddings", () => {
    const c = parseLlamaConfig({ ...LLAMA1_SMALL, rope_scaling: { rope_type: "dynamic", factor: 2 } });
    base(10000, 8).forEach((v, i) => expect(computeInvFreq(c, 64)[i]).toBeCloseTo(v, 6));
    const theta = 10000 * ((2 * 128) / 64 - 1) ** (8 / 6);
    base(theta, 8).forEach((v, i) => expect(computeInvFreq(c, 128)[i] / v).toBeCloseTo(1, 5));
  });

  it("llama3: low frequencies divided by factor, high kept, smooth between", () => {
    const c = parseLlamaConfig(LLAMA3_SMALL);
    const inv = computeInvFreq(c);
    const expected = base(500000, 8).map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < 256 / 32) return f;
      if (wavelen > 256 / 1) return f / 8;
      const smooth = (256 / wavelen - 1) / (32 - 1);
      return ((1 - smooth) * f) / 8 + smooth * f;
    });
    expected.forEach((v, i) => expect(inv[i] / v).toBeCloseTo(1, 5));
    // The fixture's frequencies cover all three regimes.
    const wavelens = base(500000, 8).map((f) => (2 * Math.PI) / f);
    expect(
      wavelens.some((w) => w < 8) && wavelens.some((w) => w > 256) && wavelens.some((w) => w >= 8 && w <= 256),
    ).toBe(true);
  });
});
