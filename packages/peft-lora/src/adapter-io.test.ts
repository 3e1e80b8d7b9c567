import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FormatError } from "@llamats/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAdapterWeights, resolveAdapterFiles, writeAdapterFiles } from "./adapter-io.js";
import { TINY_LORA_DIR } from "./testing/fixtures.js";

describe("adapter files", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "peft-lora-io-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("reads PEFT's adapter_model.safetensors by PEFT key, from the file or its folder", async () => {
    const byDir = await loadAdapterWeights(TINY_LORA_DIR);
    const byFile = await loadAdapterWeights(join(TINY_LORA_DIR, "adapter_model.safetensors"));
    expect(byDir.size).toBe(28);
    expect(byDir.get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")!.shape).toEqual([8, 64]);
    expect(byDir.get("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight")!.shape).toEqual([64, 8]);
    expect([...byFile.keys()]).toEqual([...byDir.keys()]);
  });

  it('round-trips through writeAdapterFiles with the "pt" format marker', async () => {
    const dir = join(tmp, "rt");
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    await writeAdapterFiles({
      dir,
      config: { peft_type: "LORA" },
      tensors: new Map([["base_model.model.x.lora_A.weight", { shape: [2, 3], data }]]),
    });
    const back = await loadAdapterWeights(dir);
    expect(Array.from(back.get("base_model.model.x.lora_A.weight")!.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("falls back to adapter_model.bin; a .bin that is no torch.save zip, a folder without weights or config, fail clearly", async () => {
    const dir = join(tmp, "pickle");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "adapter_config.json"), "{}");
    await writeFile(join(dir, "adapter_model.bin"), "not a zip");
    expect((await resolveAdapterFiles(dir)).weightsPath).toBe(join(dir, "adapter_model.bin"));
    const notZip = await loadAdapterWeights(dir).catch((e: unknown) => e);
    expect(FormatError.isInstance(notZip)).toBe(true);
    expect((notZip as Error).message).toContain(join(dir, "adapter_model.bin"));
    const empty = join(tmp, "no-weights");
    await mkdir(empty, { recursive: true });
    await writeFile(join(empty, "adapter_config.json"), "{}");
    await expect(resolveAdapterFiles(empty)).rejects.toThrow(
      /the adapter weights are missing: expected adapter_model\.safetensors \(or the older adapter_model\.bin\)/,
    );
    await expect(resolveAdapterFiles(tmp)).rejects.toThrow(FormatError);
    await expect(resolveAdapterFiles(join(tmp, "nope"))).rejects.toThrow(/no such adapter folder/);
  });
});
