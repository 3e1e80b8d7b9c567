import { describe, expect, it } from "vitest";
import { ggufTensorType } from "./export-gguf.js";
import { interleaveRotaryRows } from "./rotary-rows.js";
import { ggufTensorName } from "./tensor-names.js";

describe("GGUF tensor layout", () => {
  it("interleaves each head's two rotary halves: rows (x0..x3 | y0..y3) become x0 y0 x1 y1 …", () => {
    // 2 heads of headDim 4, 2 columns; row r holds [r, 100 + r].
    const rows = Float32Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? i / 2 : 100 + (i - 1) / 2));
    const out = interleaveRotaryRows(rows, 2, 2);
    const order = Array.from({ length: 8 }, (_, r) => out[r * 2]);
    // Head 0: HF rows 0,1 are the first halves of pairs, 2,3 the second: llama.cpp wants 0,2,1,3; head 1 likewise.
    expect(order).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    expect(Array.from({ length: 8 }, (_, r) => out[r * 2 + 1])).toEqual(order.map((r) => 100 + r));
  });

  it("names tensors as llama.cpp does", () => {
    expect(ggufTensorName("model.embed_tokens.weight")).toBe("token_embd.weight");
    expect(ggufTensorName("model.layers.11.self_attn.o_proj.weight")).toBe("blk.11.attn_output.weight");
    expect(ggufTensorName("model.layers.0.post_attention_layernorm.weight")).toBe("blk.0.ffn_norm.weight");
    expect(ggufTensorName("model.layers.2.self_attn.q_proj.bias")).toBe("blk.2.attn_q.bias");
    expect(() => ggufTensorName("model.layers.0.mlp.experts.0.weight")).toThrow(
      /no llama.cpp tensor name for the parameter "model.layers.0.mlp.experts.0.weight"/,
    );
  });

  it("keeps norms and 1-D tensors f32 and falls back to f16 for Q8_0 rows that are not a multiple of 32", () => {
    expect(ggufTensorType("blk.0.attn_norm.weight", [64], "q8_0")).toBe("F32");
    expect(ggufTensorType("blk.0.attn_q.bias", [64], "f16")).toBe("F32");
    expect(ggufTensorType("blk.0.ffn_up.weight", [172, 64], "q8_0")).toBe("Q8_0");
    expect(ggufTensorType("blk.0.ffn_down.weight", [64, 172], "q8_0")).toBe("F16");
    expect(ggufTensorType("blk.0.ffn_down.weight", [64, 172], "f16")).toBe("F16");
    expect(ggufTensorType("token_embd.weight", [2000, 64], "f32")).toBe("F32");
  });
});
