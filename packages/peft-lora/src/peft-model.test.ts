import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { ConfigError, initBackend, openSafetensors, registerGradients, ShapeMismatchError } from "@llamats/core";
import { LlamaForCausalLM } from "@llamats/llama-model";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getPeftModel, PeftModel } from "./peft-model.js";
import {
  maxAbsDiff,
  maxLogitDiff,
  readAllFloat32,
  readTinyInputs,
  relativeMaxDiff,
  TINY_DIR,
  TINY_LORA_DIR,
  torchAdamWFirstStep,
  type TinyInputs,
} from "./testing/fixtures.js";
import { TEST_BACKENDS } from "@llamats/core/testing";

const VOCAB = 2000;

async function logitsOf(
  model: { forward: LlamaForCausalLM["forward"] },
  inputs: TinyInputs,
): Promise<{ logits: Float32Array; loss: number }> {
  const { logits, loss } = model.forward(inputs.inputIds, {
    attentionMask: inputs.attentionMask,
    labels: inputs.labels,
  });
  const out = { logits: (await logits.data()) as Float32Array, loss: (await loss!.data())[0] };
  logits.dispose();
  loss!.dispose();
  return out;
}

async function shapesOf(path: string): Promise<Record<string, number[]>> {
  const reader = await openSafetensors(path);
  try {
    return Object.fromEntries(reader.names().map((name) => [name, reader.info(name).shape]));
  } finally {
    await reader.close();
  }
}

describe.each(TEST_BACKENDS)(
  "PeftModel on %s against Python PEFT (llama1-tiny-lora)",
  { timeout: 30_000 },
  (backend) => {
    let base: LlamaForCausalLM;
    let inputs: Awaited<ReturnType<typeof readTinyInputs>>;
    let expected: Map<string, Float32Array>;
    let tmp: string;
    const live: PeftModel<LlamaForCausalLM>[] = [];
    const track = <T extends PeftModel<LlamaForCausalLM>>(peft: T): T => {
      live.push(peft);
      return peft;
    };

    beforeAll(async () => {
      await initBackend({ backend });
      await registerGradients();
      inputs = await readTinyInputs();
      expected = await readAllFloat32(join(TINY_LORA_DIR, "expected.safetensors"));
      base = await LlamaForCausalLM.fromPretrained(TINY_DIR);
      tmp = await mkdtemp(join(tmpdir(), "peft-lora-"));
    }, 120_000);
    // A failed test must not leave the shared base wrapped.
    afterEach(() => {
      for (const peft of live.splice(0)) if (!peft.isUnloaded) peft.unload();
    });
    afterAll(async () => {
      base?.dispose();
      await rm(tmp, { recursive: true, force: true });
    });

    it("gives the logits and loss PEFT gave, within 1e-4", async () => {
      const peft = track(await PeftModel.fromPretrained(base, TINY_LORA_DIR));
      const before = tf.memory().numTensors;
      const got = await logitsOf(peft, inputs);
      expect(tf.memory().numTensors).toBe(before);
      expect(maxLogitDiff(got.logits, expected.get("logits")!, inputs.attentionMask, VOCAB)).toBeLessThan(1e-4);
      expect(Math.abs(got.loss - expected.get("loss")![0])).toBeLessThan(1e-4);
      // The adapter changes the model: the base logits are far from these.
      expect(maxLogitDiff(got.logits, inputs.baseLogits, inputs.attentionMask, VOCAB)).toBeGreaterThan(1e-2);
      peft.unload();
    });

    it("gives every lora_A / lora_B gradient within 1e-4 of its max, and one AdamW step within 1e-5", async () => {
      const peft = track(await PeftModel.fromPretrained(base, TINY_LORA_DIR, { isTrainable: true }));
      const grads = await readAllFloat32(join(TINY_LORA_DIR, "expected_grads.safetensors"));
      const afterStep = await readAllFloat32(join(TINY_LORA_DIR, "expected_after_adamw_step.safetensors"));
      const variables = peft.adapterVariables();
      expect([...variables.keys()].sort()).toEqual([...grads.keys()].sort());
      expect(peft.trainableVariables()).toHaveLength(variables.size);
      const names = [...variables.keys()];
      const before = tf.memory().numTensors;
      const { value: lossValue, grads: computed } = tf.variableGrads(
        () => {
          const { logits, loss } = peft.forward(inputs.inputIds, {
            attentionMask: inputs.attentionMask,
            labels: inputs.labels,
          });
          logits.dispose();
          return loss!;
        },
        names.map((n) => variables.get(n)!),
      );
      expect(Math.abs((await lossValue.data())[0] - expected.get("loss")![0])).toBeLessThan(1e-4);
      let worstGrad = 0;
      let worstStep = 0;
      for (const name of names) {
        const variable = variables.get(name)!;
        const grad = (await computed[variable.name].data()) as Float32Array;
        worstGrad = Math.max(worstGrad, relativeMaxDiff(grad, grads.get(name)!));
        const stepped = torchAdamWFirstStep((await variable.data()) as Float32Array, grad, {
          lr: 1e-2,
          beta1: 0.9,
          beta2: 0.999,
          eps: 1e-8,
          weightDecay: 0,
        });
        worstStep = Math.max(worstStep, maxAbsDiff(stepped, afterStep.get(name)!));
      }
      tf.dispose(computed);
      lossValue.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(worstGrad).toBeLessThan(1e-4);
      expect(worstStep).toBeLessThan(1e-5);
      peft.unload();
    }, 90_000);

    it("merged and unmerged logits agree within 1e-5; unmerge restores the base weights", async () => {
      const peft = track(await PeftModel.fromPretrained(base, TINY_LORA_DIR));
      const weightBefore = await base.namedParameters().get("model.layers.0.self_attn.q_proj.weight")!.data();
      const unmerged = await logitsOf(peft, inputs);
      peft.merge();
      expect(peft.merged).toBe(true);
      const merged = await logitsOf(peft, inputs);
      expect(maxLogitDiff(merged.logits, unmerged.logits, inputs.attentionMask, VOCAB)).toBeLessThan(1e-5);
      peft.unmerge();
      const weightAfter = await base.namedParameters().get("model.layers.0.self_attn.q_proj.weight")!.data();
      expect(maxAbsDiff(weightAfter, weightBefore)).toBeLessThan(1e-6);
      peft.unload();
    });

    it("saves the same keys, shapes and config fields as PEFT, and loads its own files back", async () => {
      const peft = track(await PeftModel.fromPretrained(base, TINY_LORA_DIR));
      const dir = join(tmp, `saved-${backend}`);
      await peft.savePretrained(dir, { baseModelNameOrPath: "llama1-tiny" });
      expect(await shapesOf(join(dir, "adapter_model.safetensors"))).toEqual(
        await shapesOf(join(TINY_LORA_DIR, "adapter_model.safetensors")),
      );
      const ours = JSON.parse(await readFile(join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>;
      const theirs = JSON.parse(await readFile(join(TINY_LORA_DIR, "adapter_config.json"), "utf8")) as Record<
        string,
        unknown
      >;
      for (const key of [
        "peft_type",
        "r",
        "lora_alpha",
        "use_rslora",
        "bias",
        "fan_in_fan_out",
        "task_type",
        "base_model_name_or_path",
        "inference_mode",
        "lora_dropout",
        "use_dora",
      ]) {
        expect([key, ours[key]]).toEqual([key, theirs[key]]);
      }
      expect([...(ours.target_modules as string[])].sort()).toEqual([...(theirs.target_modules as string[])].sort());
      const original = await logitsOf(peft, inputs);
      peft.unload();
      const again = track(await PeftModel.fromPretrained(base, dir));
      expect(maxLogitDiff((await logitsOf(again, inputs)).logits, original.logits, inputs.attentionMask, VOCAB)).toBe(
        0,
      );
      again.unload();
    });

    it("getPeftModel with the fixture settings makes the keys and shapes PEFT made; B starts at zero so logits equal the base", async () => {
      const peft = track(
        getPeftModel(
          base,
          {
            r: 8,
            lora_alpha: 16,
            target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
          },
          { seed: 1 },
        ),
      );
      const fixtureShapes = await shapesOf(join(TINY_LORA_DIR, "adapter_model.safetensors"));
      const ours = Object.fromEntries([...peft.adapterVariables()].map(([key, v]) => [key, v.shape]));
      expect(ours).toEqual(fixtureShapes);
      expect(
        maxLogitDiff((await logitsOf(peft, inputs)).logits, inputs.baseLogits, inputs.attentionMask, VOCAB),
      ).toBeLessThan(1e-4);
      const frozen = [...base.namedParameters().values()].filter((v) => v.trainable);
      expect(frozen).toHaveLength(0);
      const report = peft.trainableParameters();
      const loraElements = Object.values(fixtureShapes).reduce((sum, s) => sum + s[0] * s[1], 0);
      expect(report.trainable).toBe(loraElements);
      peft.unload();
      expect([...base.namedParameters().values()].every((v) => v.trainable)).toBe(true);
    });

    it("switches between named adapters and can run the base alone", async () => {
      const peft = track(await PeftModel.fromPretrained(base, TINY_LORA_DIR, { adapterName: "alpaca" }));
      peft.addAdapter("fresh", { r: 4, target_modules: ["q_proj"] });
      expect(peft.adapterNames).toEqual(["alpaca", "fresh"]);
      const check = async (want: Float32Array) =>
        maxLogitDiff((await logitsOf(peft, inputs)).logits, want, inputs.attentionMask, VOCAB);
      expect(await check(expected.get("logits")!)).toBeLessThan(1e-4);
      peft.setAdapter("fresh");
      expect(await check(inputs.baseLogits)).toBeLessThan(1e-4);
      peft.setAdapter("alpaca");
      peft.disableAdapters();
      expect(await check(inputs.baseLogits)).toBeLessThan(1e-4);
      peft.enableAdapters();
      expect(await check(expected.get("logits")!)).toBeLessThan(1e-4);
      peft.setAdapter("fresh");
      peft.deleteAdapter("alpaca");
      expect(peft.adapterNames).toEqual(["fresh"]);
      peft.unload();
    });

    it("mergeAndUnload gives a plain model whose saved repo reloads with the adapter logits", async () => {
      const copy = await LlamaForCausalLM.fromPretrained(TINY_DIR);
      const peft = track(await PeftModel.fromPretrained(copy, TINY_LORA_DIR));
      const plain = peft.mergeAndUnload();
      expect(plain).toBe(copy);
      expect(plain.linearNames().every((name) => plain.getLinear(name).constructor.name === "Linear")).toBe(true);
      const dir = join(tmp, `merged-${backend}`);
      await plain.savePretrained(dir);
      plain.dispose();
      const reloaded = await LlamaForCausalLM.fromPretrained(dir);
      expect(
        maxLogitDiff((await logitsOf(reloaded, inputs)).logits, expected.get("logits")!, inputs.attentionMask, VOCAB),
      ).toBeLessThan(1e-4);
      reloaded.dispose();
    });

    it("refuses an adapter made for another base, naming the module and both shapes", async () => {
      const gqa = LlamaForCausalLM.fromConfig(
        { ...(JSON.parse(await readFile(join(TINY_DIR, "config.json"), "utf8")) as object), num_key_value_heads: 2 },
        { seed: 3 },
      );
      const error = await PeftModel.fromPretrained(gqa, TINY_LORA_DIR).catch((e: unknown) => e);
      expect(ShapeMismatchError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/k_proj.*\[64, 8\].*\[32, 8\]/);
      expect((error as ShapeMismatchError).expected).toEqual([32, 8]);
      expect((error as ShapeMismatchError).found).toEqual([64, 8]);
      // Nothing was wrapped by the failed load.
      expect(gqa.linearNames().every((name) => gqa.getLinear(name).constructor.name === "Linear")).toBe(true);
      expect(() => getPeftModel(gqa, { target_modules: ["c_attn"] })).toThrow(ConfigError);
      expect(() => getPeftModel(gqa, { target_modules: ["c_attn"] })).toThrow(/c_attn.*not found in the base model/);
      gqa.dispose();
    });
  },
);
