// The export's header as node-llama-cpp's own GGUF parser reads it: keys, types and tensor types as llama.cpp's
// converter would write them for these models.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useBackend } from "@llamats/core/testing";
import { exportGguf } from "@llamats/llama-model";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MODEL_CASES } from "./models.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llamats-interop-meta-"));
  await useBackend("wasm");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function exported(prefix: string, type: "f32" | "f16" | "q8_0") {
  const modelCase = MODEL_CASES.find((c) => c.name.startsWith(prefix));
  if (!modelCase) throw new Error(`no model case named ${prefix}`);
  const { model, tokenizer } = await modelCase.load();
  const path = join(dir, `${prefix}-${type}.gguf`);
  try {
    await exportGguf(model, { path, tokenizer, type, name: prefix });
  } finally {
    model.dispose();
  }
  const info = await readGgufFileInfo(path, { logWarnings: false });
  const types = new Map((info.tensorInfo ?? []).map((t) => [t.name, t.ggmlType as number]));
  return { info, types, metadata: info.metadata as unknown as Record<string, Record<string, unknown>> };
}

describe("GGUF header read by node-llama-cpp", () => {
  it("llama1-tiny as q8_0: llama hyperparameters, SentencePiece vocabulary, q8_0 / f16 fallback / f32 norms", async () => {
    const { info, types, metadata } = await exported("llama1-tiny", "q8_0");
    expect(info.version).toBe(3);
    expect(metadata.general).toMatchObject({ architecture: "llama", name: "llama1-tiny", file_type: 7, alignment: 32 });
    expect(metadata.llama).toMatchObject({
      block_count: 2,
      context_length: 512,
      embedding_length: 64,
      feed_forward_length: 172,
      vocab_size: 2000,
      attention: { head_count: 4, head_count_kv: 4, key_length: 16, value_length: 16 },
      rope: { dimension_count: 16, freq_base: 10000 },
    });
    const tok = metadata.tokenizer as { ggml: Record<string, unknown> };
    expect(tok.ggml).toMatchObject({
      model: "llama",
      pre: "default",
      bos_token_id: 1,
      eos_token_id: 2,
      unknown_token_id: 0,
    });
    expect((tok.ggml.tokens as string[]).length).toBe(2000);
    // ggml types: 0 F32, 1 F16, 8 Q8_0. Rows of 172 (ffn_down) are no multiple of 32: f16, as the converter falls back.
    expect(types.get("token_embd.weight")).toBe(8);
    expect(types.get("blk.0.attn_q.weight")).toBe(8);
    expect(types.get("blk.0.ffn_down.weight")).toBe(1);
    expect(types.get("blk.0.attn_norm.weight")).toBe(0);
    expect(types.get("output_norm.weight")).toBe(0);
    expect(types.get("output.weight")).toBe(8);
  });

  it("the held-back shape: GQA counts, no output.weight when tied, rope_freqs for Llama 3, gpt2 vocabulary", async () => {
    const { types, metadata } = await exported("GQA", "f16");
    expect(metadata.general).toMatchObject({ file_type: 1 });
    expect(metadata.llama).toMatchObject({ attention: { head_count: 4, head_count_kv: 2 } });
    const tok = metadata.tokenizer as { ggml: Record<string, unknown> };
    expect(tok.ggml).toMatchObject({ model: "gpt2", pre: "llama-bpe" });
    expect((tok.ggml.merges as string[]).length).toBeGreaterThan(0);
    expect(types.has("output.weight")).toBe(false);
    expect(types.get("rope_freqs.weight")).toBe(0);
    expect(types.get("blk.1.ffn_up.weight")).toBe(1);
  });
});
