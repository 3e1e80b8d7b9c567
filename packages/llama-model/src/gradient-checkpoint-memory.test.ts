import * as tf from "@tensorflow/tfjs-core";
import { gpuMemory, resetGpuMemoryPeak } from "@llamats/core";
import { TEST_BACKENDS, useBackend } from "@llamats/core/testing";
import { describe, expect, it } from "vitest";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";

// Activations dominate here (4 layers × 2 × 96 tokens × a small hidden size): keeping one layer's input each instead
// of every intermediate must show in the GPU peak. Weights are trainable, so every layer's backward runs.
const CONFIG = {
  model_type: "llama",
  hidden_size: 64,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 172,
  vocab_size: 128,
  max_position_embeddings: 128,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
};

describe.runIf(TEST_BACKENDS.includes("webgpu"))("gradient checkpointing on webgpu", () => {
  it("gives the same gradients with a lower peak of GPU buffer bytes", async () => {
    await useBackend("webgpu");
    const model = LlamaForCausalLM.fromConfig(CONFIG, { seed: 1 });
    const ids = [0, 1].map((row) => Array.from({ length: 96 }, (_, i) => (i * 7 + row * 13) % 128));
    const params = [...model.namedParameters().values()];
    const step = async (checkpoint: boolean) => {
      resetGpuMemoryPeak();
      const { grads, value } = tf.variableGrads(() => {
        const { logits, loss } = model.forward(ids, { labels: ids, gradientCheckpointing: checkpoint });
        logits.dispose();
        return loss!;
      }, params);
      const all = Object.values(grads);
      // Pairwise adds: tfjs-webgpu's AddN binds every input at once, past the device's storage-buffer limit here.
      const norm = tf.tidy(() => all.map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b)));
      const out = { peak: gpuMemory()!.peakBytes, loss: (await value.data())[0], norm: (await norm.data())[0] };
      tf.dispose([value, norm, ...all]);
      return out;
    };
    // tfjs keeps freed buffers in a pool that never shrinks, so the checkpointed steps run first: a warm-up (its
    // shaders compiled, its pool filled, as in a training loop), the measured one, then the plain step on top.
    await step(true);
    const checkpointed = await step(true);
    const plain = await step(false);
    expect(checkpointed.loss).toBe(plain.loss);
    expect(Math.abs(checkpointed.norm - plain.norm) / plain.norm).toBeLessThan(1e-5);
    expect(checkpointed.peak).toBeLessThan(plain.peak * 0.8);
    model.dispose();
  }, 300_000);
});
