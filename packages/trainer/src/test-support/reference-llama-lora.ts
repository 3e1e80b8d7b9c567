// Test-only: a plain-tfjs LLaMA with LoRA on chosen projections, so the trainer's tests do not
// depend on other packages' progress. It is checked against llama1-tiny's golden logits first.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors, writeSafetensors } from '@llamats/core';
import type { ForwardOptions, CausalLMOutput, TrainableModel } from '../trainable-model.js';

export interface ReferenceLlamaConfig {
  hidden_size: number;
  intermediate_size: number;
  num_attention_heads: number;
  num_hidden_layers: number;
  vocab_size: number;
  rms_norm_eps: number;
  rope_theta: number;
}

export interface ReferenceLoraSettings {
  r: number;
  alpha: number;
  targetModules: readonly string[];
}

const ATTENTION = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
const PEFT_PREFIX = 'base_model.model.';

export class ReferenceLlamaLora implements TrainableModel {
  readonly weightsFile = 'adapter_model.safetensors';
  private readonly adapters = new Map<string, tf.Variable>();

  private constructor(
    readonly config: ReferenceLlamaConfig,
    private readonly weights: Map<string, tf.Tensor>,
    readonly lora: ReferenceLoraSettings | null,
  ) {}

  static async load(modelDir: string, lora: ReferenceLoraSettings | null, adapterFile?: string): Promise<ReferenceLlamaLora> {
    const { readFile } = await import('node:fs/promises');
    const config = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as ReferenceLlamaConfig;
    const reader = await openSafetensors(join(modelDir, 'model.safetensors'));
    const weights = new Map<string, tf.Tensor>();
    for (const name of reader.names()) weights.set(name, tf.tensor(await reader.readFloat32(name), reader.info(name).shape, 'float32'));
    await reader.close();
    const model = new ReferenceLlamaLora(config, weights, lora);
    if (lora && adapterFile) {
      const adapter = await openSafetensors(adapterFile);
      for (const name of adapter.names()) {
        model.adapters.set(name, tf.variable(tf.tensor(await adapter.readFloat32(name), adapter.info(name).shape, 'float32'), true));
      }
      await adapter.close();
    }
    return model;
  }

  namedTrainableVariables(): ReadonlyMap<string, tf.Variable> {
    return this.adapters;
  }

  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, v] of this.adapters) tensors[name] = { shape: v.shape.slice(), data: (await v.data()) as Float32Array };
    await writeSafetensors(join(dir, this.weightsFile), tensors, { metadata: { format: 'pt' } });
    const lora = this.lora as ReferenceLoraSettings;
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: lora.r, lora_alpha: lora.alpha, target_modules: lora.targetModules }));
  }

  private linear(x: tf.Tensor2D, module: string): tf.Tensor2D {
    const weight = this.weights.get(`${module}.weight`) as tf.Tensor2D;
    const base = tf.matMul(x, weight, false, true) as tf.Tensor2D;
    const a = this.adapters.get(`${PEFT_PREFIX}${module}.lora_A.weight`);
    const b = this.adapters.get(`${PEFT_PREFIX}${module}.lora_B.weight`);
    if (!a || !b || !this.lora) return base;
    const low = tf.matMul(tf.matMul(x, a as tf.Tensor2D, false, true), b as tf.Tensor2D, false, true);
    return tf.add(base, tf.mul(low, this.lora.alpha / this.lora.r)) as tf.Tensor2D;
  }

  private rmsNorm(x: tf.Tensor2D, weightName: string): tf.Tensor2D {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, this.config.rms_norm_eps))), this.weights.get(weightName) as tf.Tensor1D);
  }

  forward(inputIds: tf.Tensor2D, options: ForwardOptions): CausalLMOutput {
    return tf.tidy(() => {
      const [batch, seq] = inputIds.shape;
      const { hidden_size: hidden, num_attention_heads: heads } = this.config;
      const headDim = hidden / heads;
      let x = tf.gather(this.weights.get('model.embed_tokens.weight') as tf.Tensor2D, tf.reshape(inputIds, [-1])) as tf.Tensor2D;
      const invFreq = Array.from({ length: headDim / 2 }, (_, i) => 1 / this.config.rope_theta ** ((2 * i) / headDim));
      const angles: number[] = [];
      for (let t = 0; t < seq; t++) for (let half = 0; half < 2; half++) for (const f of invFreq) angles.push(t * f);
      const cos = tf.tensor(angles.map(Math.cos), [1, 1, seq, headDim]);
      const sin = tf.tensor(angles.map(Math.sin), [1, 1, seq, headDim]);
      const maskValues = new Float32Array(batch * seq * seq);
      const keyMask = options.attentionMask ? (options.attentionMask.arraySync() as number[][]) : null;
      for (let b = 0; b < batch; b++) for (let i = 0; i < seq; i++) for (let j = 0; j < seq; j++) {
        if (j > i || (keyMask && keyMask[b][j] === 0)) maskValues[(b * seq + i) * seq + j] = -1e9;
      }
      const mask = tf.tensor(maskValues, [batch, 1, seq, seq]);
      const heads4d = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [batch, seq, heads, headDim]), [0, 2, 1, 3]);
      const rope = (t: tf.Tensor) => {
        const [x1, x2] = tf.split(t, 2, -1);
        return tf.add(tf.mul(t, cos), tf.mul(tf.concat([tf.neg(x2), x1], -1), sin));
      };
      for (let layer = 0; layer < this.config.num_hidden_layers; layer++) {
        const p = `model.layers.${layer}`;
        const normed = this.rmsNorm(x, `${p}.input_layernorm.weight`);
        const [q, k, v] = ATTENTION.slice(0, 3).map((m) => heads4d(this.linear(normed, `${p}.self_attn.${m}`)));
        const scores = tf.add(tf.div(tf.matMul(rope(q), rope(k), false, true), Math.sqrt(headDim)), mask);
        const context = tf.matMul(tf.softmax(scores, -1), v);
        const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch * seq, hidden]) as tf.Tensor2D;
        x = tf.add(x, this.linear(merged, `${p}.self_attn.o_proj`));
        const normed2 = this.rmsNorm(x, `${p}.post_attention_layernorm.weight`);
        const gate = this.linear(normed2, `${p}.mlp.gate_proj`);
        const up = this.linear(normed2, `${p}.mlp.up_proj`);
        x = tf.add(x, this.linear(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), `${p}.mlp.down_proj`));
      }
      const logits = this.linear(this.rmsNorm(x, 'model.norm.weight'), 'lm_head');
      return { logits: tf.reshape(logits, [batch, seq, this.config.vocab_size]) as tf.Tensor3D };
    });
  }

  dispose(): void {
    tf.dispose([...this.weights.values(), ...this.adapters.values()]);
  }
}
