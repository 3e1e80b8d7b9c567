import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from './backends.js';
import { LLAMA1_TINY, readTensors } from './fixtures.js';
import { ReferenceLlamaLora } from './reference-llama-lora.js';

describe.each(TEST_BACKENDS)('reference LLaMA used by the trainer tests (%s)', (backend) => {
  it('gives llama1-tiny golden logits within 1e-4', async () => {
    await useBackend(backend);
    const expected = await readTensors(`${LLAMA1_TINY}/expected.safetensors`);
    const model = await ReferenceLlamaLora.load(LLAMA1_TINY, null);
    const ids = tf.tensor2d(Int32Array.from(expected.get('input_ids') as Float32Array), [2, 24], 'int32');
    const mask = tf.tensor2d(Int32Array.from(expected.get('attention_mask') as Float32Array), [2, 24], 'int32');
    const { logits } = model.forward(ids, { attentionMask: mask });
    const got = await logits.data();
    const want = expected.get('logits') as Float32Array;
    const maskValues = expected.get('attention_mask') as Float32Array;
    let maxDiff = 0;
    // Padded query rows are not compared: HF fills them differently and nothing reads them.
    for (let i = 0; i < want.length; i++) if (maskValues[Math.floor(i / 2000)] === 1) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    tf.dispose([ids, mask, logits]);
    model.dispose();
  });
});
