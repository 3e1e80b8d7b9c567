import * as tf from "@tensorflow/tfjs-core";
import { initBackend, registerGradients } from "@llamats/core";
import { beforeAll, describe, expect, it } from "vitest";
import { countLossTokens } from "./causal-lm-loss.js";
import { denseMatMul } from "./dense.js";
import { type Linear, type LinearLayer } from "./linear.js";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { TEST_BACKENDS, readScalar } from "@llamats/core/testing";
import { LLAMA1_SMALL } from "./testing/tiny-configs.js";

const IDS = [
  [1, 5, 9, 14, 22, 7, 3, 40],
  [1, 60, 61, 8, 9, 10, 11, 12],
];
const LABELS = [
  [-100, -100, 9, 14, 22, 7, 3, 40],
  [-100, 60, 61, 8, 9, -100, -100, -100],
];

async function maxRelDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const diff = await readScalar(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b)))));
  return diff / Math.max(1e-12, await readScalar(tf.max(tf.abs(b))));
}

/** A wrapper like PEFT's: base output plus a trainable low-rank update. */
class AddLowRank implements LinearLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly a: tf.Variable;
  readonly b: tf.Variable;
  constructor(readonly base: LinearLayer) {
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.a = tf.variable(tf.randomNormal([2, base.inFeatures], 0, 0.3, "float32", 3));
    this.b = tf.variable(tf.randomNormal([base.outFeatures, 2], 0, 0.3, "float32", 4));
  }
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      tf.add(
        this.base.apply(x),
        tf.reshape(
          tf.matMul(tf.matMul(tf.reshape(x, [-1, this.inFeatures]), this.a, false, true), this.b, false, true),
          [...x.shape.slice(0, -1), this.outFeatures],
        ),
      ),
    );
  }
}

describe.each(TEST_BACKENDS)("training hooks on %s", (backend) => {
  beforeAll(async () => {
    await initBackend({ backend });
    await registerGradients();
  });

  it("denseMatMul gradients equal those of the plain transposed matmul", async () => {
    const x = tf.randomNormal<tf.Rank.R2>([5, 7], 0, 1, "float32", 1);
    const w = tf.variable(tf.randomNormal<tf.Rank.R2>([3, 7], 0, 1, "float32", 2));
    const r = tf.randomNormal([5, 3], 0, 1, "float32", 5);
    const ours = tf.grads((xi: tf.Tensor, wi: tf.Tensor) =>
      tf.sum(tf.mul(denseMatMul(xi as tf.Tensor2D, wi as tf.Tensor2D), r)),
    );
    const plain = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(tf.matMul(xi, wi, false, true), r)));
    const [gx, gw] = ours([x, w]);
    const [px, pw] = plain([x, w]);
    expect(await maxRelDiff(gx, px)).toBeLessThan(1e-5);
    expect(await maxRelDiff(gw, pw)).toBeLessThan(1e-5);
    tf.dispose([x, w, r, gx, gw, px, pw]);
  });

  it("loss is differentiable w.r.t. every parameter; gradient checkpointing gives the same gradients", async () => {
    const model = LlamaForCausalLM.fromConfig(LLAMA1_SMALL, { seed: 11 });
    const vars = model.trainableVariables();
    expect(vars.length).toBe(model.namedParameters().size);
    const run = (checkpoint: boolean) =>
      tf.variableGrads(() => model.forward(IDS, { labels: LABELS, gradientCheckpointing: checkpoint }).loss!, vars);
    const plain = run(false);
    const checkpointed = run(true);
    expect((await plain.value.data())[0]).toBeCloseTo((await checkpointed.value.data())[0], 5);
    for (const v of vars) {
      expect(plain.grads[v.name], v.name).toBeDefined();
      expect(await maxRelDiff(checkpointed.grads[v.name], plain.grads[v.name])).toBeLessThan(1e-4);
    }
    // Every parameter gets a non-zero gradient.
    for (const v of vars) expect((await tf.max(tf.abs(plain.grads[v.name])).data())[0], v.name).toBeGreaterThan(0);
    tf.dispose([plain.value, checkpointed.value, ...Object.values(plain.grads), ...Object.values(checkpointed.grads)]);
    model.dispose();
  });

  it("sum reduction divided by countLossTokens is the mean loss", async () => {
    const model = LlamaForCausalLM.fromConfig(LLAMA1_SMALL, { seed: 12 });
    const mean = model.forward(IDS, { labels: LABELS });
    const sum = model.forward(IDS, { labels: LABELS, lossReduction: "sum" });
    expect(countLossTokens(LABELS)).toBe(10);
    expect((await sum.loss!.data())[0] / 10).toBeCloseTo((await mean.loss!.data())[0], 5);
    tf.dispose([mean.logits, mean.loss!, sum.logits, sum.loss!]);
    model.dispose();
  });

  it("frozen base + wrapped linears: only adapter variables train, also with checkpointing", async () => {
    const model = LlamaForCausalLM.fromConfig(LLAMA1_SMALL, { seed: 13 });
    model.setTrainable(() => false);
    expect(model.trainableVariables()).toEqual([]);
    const names = model.linearNames().filter((n) => n.endsWith("q_proj") || n.endsWith("v_proj"));
    expect(names).toEqual([
      "model.layers.0.self_attn.q_proj",
      "model.layers.0.self_attn.v_proj",
      "model.layers.1.self_attn.q_proj",
      "model.layers.1.self_attn.v_proj",
    ]);
    const wrappers = names.map((n) => {
      const w = new AddLowRank(model.getLinear(n));
      model.setLinear(n, w);
      return w;
    });
    expect(model.getLinear(names[0])).toBe(wrappers[0]);
    const adapterVars = wrappers.flatMap((w) => [w.a, w.b]);
    expect(new Set(model.trainableVariables())).toEqual(new Set(adapterVars));
    const plain = tf.variableGrads(() => model.forward(IDS, { labels: LABELS }).loss!, adapterVars);
    const ckpt = tf.variableGrads(
      () => model.forward(IDS, { labels: LABELS, gradientCheckpointing: true }).loss!,
      adapterVars,
    );
    for (const v of adapterVars) expect(await maxRelDiff(ckpt.grads[v.name], plain.grads[v.name])).toBeLessThan(1e-4);
    // The namedParameters still name the base weights.
    expect(model.namedParameters().get("model.layers.0.self_attn.q_proj.weight")).toBe(
      (wrappers[0].base as Linear).weight,
    );
    tf.dispose([plain.value, ckpt.value, ...Object.values(plain.grads), ...Object.values(ckpt.grads), ...adapterVars]);
    model.dispose();
  });

  it("gradient checkpointing lowers the peak memory of a training step", async () => {
    const model = LlamaForCausalLM.fromConfig({ ...LLAMA1_SMALL, num_hidden_layers: 4 }, { seed: 15 });
    const ids = [
      Array.from({ length: 48 }, (_, i) => (i * 7) % 97),
      Array.from({ length: 48 }, (_, i) => (i * 5) % 97),
    ];
    const peak = async (checkpoint: boolean) => {
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(
          () => model.forward(ids, { labels: ids, gradientCheckpointing: checkpoint }).loss!,
        );
        tf.dispose([value, ...Object.values(grads)]);
      });
      return info.peakBytes;
    };
    const plain = await peak(false);
    const checkpointed = await peak(true);
    expect(checkpointed).toBeLessThan(plain * 0.8);
    model.dispose();
  });

  it("a training step leaves the tensor count flat", () => {
    const model = LlamaForCausalLM.fromConfig(LLAMA1_SMALL, { seed: 14 });
    const step = () => {
      const { value, grads } = tf.variableGrads(
        () => model.forward(IDS, { labels: LABELS, gradientCheckpointing: true }).loss!,
      );
      tf.tidy(() => {
        for (const v of model.trainableVariables()) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.01)));
      });
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
