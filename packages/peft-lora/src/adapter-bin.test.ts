// PEFT adapters saved before safetensors (adapter_model.bin, e.g. tloen/alpaca-lora-7b) load through core's
// restricted unpickler to the same weights and logits as the safetensors fixture.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "@llamats/core";
import { startMockHub, TEST_BACKENDS } from "@llamats/core/testing";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAdapterWeights, resolveAdapterFiles } from "./adapter-io.js";
import { PeftModel } from "./peft-model.js";
import {
  maxLogitDiff,
  readAllFloat32,
  readTinyInputs,
  TINY_DIR,
  TINY_LORA_BIN_DIR,
  TINY_LORA_DIR,
} from "./testing/fixtures.js";

const VOCAB = 2000;

describe("adapter_model.bin", () => {
  it("holds bit for bit the tensors of adapter_model.safetensors, under the same PEFT keys", async () => {
    const fromBin = await loadAdapterWeights(TINY_LORA_BIN_DIR);
    const fromSafetensors = await loadAdapterWeights(TINY_LORA_DIR);
    expect([...fromBin.keys()].sort()).toEqual([...fromSafetensors.keys()].sort());
    for (const [name, tensor] of fromSafetensors) {
      expect(fromBin.get(name)?.shape).toEqual(tensor.shape);
      expect(fromBin.get(name)?.data).toEqual(tensor.data);
    }
    expect((await resolveAdapterFiles(TINY_LORA_BIN_DIR)).weightsPath).toBe(
      join(TINY_LORA_BIN_DIR, "adapter_model.bin"),
    );
  });
});

describe.each(TEST_BACKENDS)(
  "PeftModel.fromPretrained on %s with adapter_model.bin",
  { timeout: 60_000 },
  (backend) => {
    let base: LlamaForCausalLM;
    let tmp: string;
    beforeAll(async () => {
      await initBackend({ backend });
      base = await LlamaForCausalLM.fromPretrained(TINY_DIR);
      tmp = await mkdtemp(join(tmpdir(), "peft-lora-bin-"));
    }, 120_000);
    afterAll(async () => {
      base?.dispose();
      await rm(tmp, { recursive: true, force: true });
    });

    const logitsAndLoss = async (peft: PeftModel<LlamaForCausalLM>) => {
      const inputs = await readTinyInputs();
      const { logits, loss } = peft.forward(inputs.inputIds, {
        attentionMask: inputs.attentionMask,
        labels: inputs.labels,
      });
      const out = {
        logits: (await logits.data()) as Float32Array,
        loss: (await loss!.data())[0],
        mask: inputs.attentionMask,
      };
      tf.dispose([logits, loss!]);
      return out;
    };

    it("gives PEFT's logits and loss (llama1-tiny-lora/expected.safetensors) within 1e-4, from a folder and a Hub repo", async () => {
      const expected = await readAllFloat32(join(TINY_LORA_DIR, "expected.safetensors"));
      const before = tf.memory().numTensors;
      const local = await PeftModel.fromPretrained(base, TINY_LORA_BIN_DIR);
      const got = await logitsAndLoss(local);
      local.unload();
      expect(maxLogitDiff(got.logits, expected.get("logits")!, got.mask, VOCAB)).toBeLessThan(1e-4);
      expect(Math.abs(got.loss - expected.get("loss")![0])).toBeLessThan(1e-4);
      expect(tf.memory().numTensors).toBe(before);

      // A Hub repo with only adapter_config.json and adapter_model.bin, as older adapters ship.
      const files: Record<string, Uint8Array> = {};
      for (const name of ["adapter_config.json", "adapter_model.bin"])
        files[name] = new Uint8Array(await readFile(join(TINY_LORA_BIN_DIR, name)));
      const hub = await startMockHub({ repos: [{ id: "old-org/tiny-lora-bin", files }] });
      try {
        const options = { hubUrl: hub.url, cacheDir: join(tmp, `cache-${backend}`), accessToken: "" };
        const remote = await PeftModel.fromPretrained(base, "old-org/tiny-lora-bin", options);
        const fromHub = await logitsAndLoss(remote);
        remote.unload();
        expect(maxLogitDiff(fromHub.logits, expected.get("logits")!, fromHub.mask, VOCAB)).toBeLessThan(1e-4);
        expect(hub.contentRequests().some((r) => r.url.endsWith("/adapter_model.bin"))).toBe(true);
      } finally {
        await hub.close();
      }
    });
  },
);
