import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { ensureLlamatsKernels, KERNEL_BACKENDS } from "./registry.js";
import { RMS_NORM, RMS_NORM_GRAD_WEIGHT, RMS_NORM_GRAD_X } from "./rms-norm.kernels.js";
import { ROPE, ROPE_GRAD } from "./rope.kernels.js";
import { SOFTMAX_CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY_GRAD } from "./softmax-cross-entropy.kernels.js";
import { SWIGLU, SWIGLU_GRAD_GATE, SWIGLU_GRAD_UP } from "./swiglu.kernels.js";

const FORWARD = [SOFTMAX_CROSS_ENTROPY, RMS_NORM, SWIGLU, ROPE];
const BACKWARD = [
  SOFTMAX_CROSS_ENTROPY_GRAD,
  RMS_NORM_GRAD_X,
  RMS_NORM_GRAD_WEIGHT,
  SWIGLU_GRAD_GATE,
  SWIGLU_GRAD_UP,
  ROPE_GRAD,
];

describe("ensureLlamatsKernels", () => {
  it("registers every kernel for cpu, wasm and webgpu before any backend starts, and each forward gradient once", () => {
    ensureLlamatsKernels();
    ensureLlamatsKernels();
    for (const name of [...FORWARD, ...BACKWARD])
      for (const backend of KERNEL_BACKENDS) expect(tf.getKernel(name, backend), `${name} on ${backend}`).toBeDefined();
    for (const name of FORWARD) expect(tf.getGradient(name)).toBeDefined();
  });
});
