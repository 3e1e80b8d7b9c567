import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openSafetensors } from "./reader.js";
import { rawTensorView } from "./raw-file.fixture.js";

const fixture = (path: string): string => fileURLToPath(new URL(`../../test-fixtures/${path}`, import.meta.url));

const PROJECTIONS: Record<string, [number, number]> = {
  "self_attn.q_proj": [64, 64],
  "self_attn.k_proj": [64, 64],
  "self_attn.v_proj": [64, 64],
  "self_attn.o_proj": [64, 64],
  "mlp.gate_proj": [172, 64],
  "mlp.up_proj": [172, 64],
  "mlp.down_proj": [64, 172],
};

function expectedModelShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>([
    ["model.embed_tokens.weight", [2000, 64]],
    ["lm_head.weight", [2000, 64]],
    ["model.norm.weight", [64]],
  ]);
  for (const layer of [0, 1]) {
    shapes.set(`model.layers.${layer}.input_layernorm.weight`, [64]);
    shapes.set(`model.layers.${layer}.post_attention_layernorm.weight`, [64]);
    for (const [proj, shape] of Object.entries(PROJECTIONS)) shapes.set(`model.layers.${layer}.${proj}.weight`, shape);
  }
  return shapes;
}

function expectedAdapterShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const layer of [0, 1]) {
    for (const [proj, [out, inp]] of Object.entries(PROJECTIONS)) {
      const base = `base_model.model.model.layers.${layer}.${proj}`;
      shapes.set(`${base}.lora_A.weight`, [8, inp]);
      shapes.set(`${base}.lora_B.weight`, [out, 8]);
    }
  }
  return shapes;
}

async function expectReadsExactly(path: string, shapes: Map<string, number[]>): Promise<void> {
  const bytes = new Uint8Array(await readFile(path));
  const reader = await openSafetensors(path);
  try {
    expect(reader.metadata).toEqual({ format: "pt" });
    expect(reader.names().sort()).toEqual([...shapes.keys()].sort());
    for (const [name, shape] of shapes) {
      expect(reader.info(name), name).toEqual({ dtype: "F32", shape, file: path });
      const values = await reader.readFloat32(name);
      const raw = rawTensorView(bytes, name);
      expect(values.length).toBe(shape.reduce((a, b) => a * b, 1));
      expect(values.length * 4).toBe(raw.view.byteLength);
      // Every value against the bytes decoded independently: first, last and a stride through the middle.
      const step = Math.max(1, Math.floor(values.length / 97));
      for (let i = 0; i < values.length; i += step) expect(values[i]).toBe(raw.view.getFloat32(i * 4, true));
      expect(values[values.length - 1]).toBe(raw.view.getFloat32(values.length * 4 - 4, true));
    }
  } finally {
    await reader.close();
  }
}

describe("fixtures written by Python are read exactly", () => {
  it("llama1-tiny/model.safetensors: names, shapes, dtypes and values", async () => {
    await expectReadsExactly(fixture("llama1-tiny/model.safetensors"), expectedModelShapes());
  });

  it("llama1-tiny-lora/adapter_model.safetensors: PEFT keys, shapes and values", async () => {
    await expectReadsExactly(fixture("llama1-tiny-lora/adapter_model.safetensors"), expectedAdapterShapes());
  });

  it("the fixture values are not trivially zero (so the comparison means something)", async () => {
    const reader = await openSafetensors(fixture("llama1-tiny-lora/adapter_model.safetensors"));
    const b = await reader.readFloat32("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight");
    await reader.close();
    expect(b.some((v) => v !== 0)).toBe(true);
  });
});
