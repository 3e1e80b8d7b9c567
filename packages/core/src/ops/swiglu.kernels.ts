import * as tf from "@tensorflow/tfjs-core";
import { wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { WasmKernels } from "../kernels/wasm-kernels.js";
import { cpuKernelFunc, wasmKernelFunc, type HostKernel, type WasmBackendLike } from "./host-kernel.js";
import type { KernelArgs, LlamatsOp } from "./kernel-types.js";
import { webgpuSwiglu, webgpuSwigluGradGate, webgpuSwigluGradUp } from "./swiglu.webgpu.js";

/** gate, up (same shape) → silu(gate) · up. */
export const SWIGLU = "LlamatsSwiglu";
/** gate, up, dy → dgate = dy · up · silu'(gate). */
export const SWIGLU_GRAD_GATE = "LlamatsSwigluGradGate";
/** gate, dy → dup = dy · silu(gate). */
export const SWIGLU_GRAD_UP = "LlamatsSwigluGradUp";
/** gate, up, dy → [dgate, dup] in one pass: the gradient on wasm with llamats' kernels installed. */
export const SWIGLU_GRAD = "LlamatsSwigluGrad";

function sigmoid(g: number): number {
  return 1 / (1 + Math.exp(-g));
}

/** y = g · sigmoid(g) · u. */
function swigluElements(gate: Float32Array, up: Float32Array, y: Float32Array): void {
  for (let i = 0; i < gate.length; i++) y[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

/** dgate = dy · u · s · (1 + g · (1 − s)), with s = sigmoid(g): the derivative of g · s. */
function swigluGradGateElements(gate: Float32Array, up: Float32Array, dy: Float32Array, dgate: Float32Array): void {
  for (let i = 0; i < gate.length; i++) {
    const s = sigmoid(gate[i]);
    dgate[i] = dy[i] * up[i] * s * (1 + gate[i] * (1 - s));
  }
}

/** dup = dy · g · sigmoid(g). */
function swigluGradUpElements(gate: Float32Array, dy: Float32Array, dup: Float32Array): void {
  for (let i = 0; i < gate.length; i++) dup[i] = dy[i] * gate[i] * sigmoid(gate[i]);
}

const forwardHost: HostKernel = {
  inputs: ["gate", "up"],
  outputShapes: ({ gate }) => [[...gate.shape]],
  run: ({ gate, up }, [y]) => swigluElements(gate as Float32Array, up as Float32Array, y),
};

const gradGateHost: HostKernel = {
  inputs: ["gate", "up", "dy"],
  outputShapes: ({ gate }) => [[...gate.shape]],
  run: ({ gate, up, dy }, [dgate]) =>
    swigluGradGateElements(gate as Float32Array, up as Float32Array, dy as Float32Array, dgate),
};

const gradUpHost: HostKernel = {
  inputs: ["gate", "dy"],
  outputShapes: ({ gate }) => [[...gate.shape]],
  run: ({ gate, dy }, [dup]) => swigluGradUpElements(gate as Float32Array, dy as Float32Array, dup),
};

const gradBothHost: HostKernel = {
  inputs: ["gate", "up", "dy"],
  outputShapes: ({ gate }) => [[...gate.shape], [...gate.shape]],
  run: ({ gate, up, dy }, [dgate, dup]) => {
    swigluGradGateElements(gate as Float32Array, up as Float32Array, dy as Float32Array, dgate);
    swigluGradUpElements(gate as Float32Array, dy as Float32Array, dup);
  },
};

/** llamats' SIMD kernels (kernels/llamats-kernels.c) when installed, else null (the JS loops run). */
function cKernels(): WasmKernels | null {
  return wasmKernelsInstalled() ? WasmKernels.get() : null;
}

function sizeOf(info: tf.TensorInfo): number {
  return info.shape.reduce((a, b) => a * b, 1);
}

const hostForward = wasmKernelFunc(SWIGLU, forwardHost);
const hostGradGate = wasmKernelFunc(SWIGLU_GRAD_GATE, gradGateHost);
const hostGradUp = wasmKernelFunc(SWIGLU_GRAD_UP, gradUpHost);

/** On wasm: one SIMD pass (threaded for large tensors) on llamats' kernels; the JS loop over the heap otherwise. */
function wasmForward(args: KernelArgs): tf.TensorInfo {
  const kernels = cKernels();
  const { gate, up } = args.inputs as { gate: tf.TensorInfo; up: tf.TensorInfo };
  const size = sizeOf(gate);
  if (!kernels || size === 0) return hostForward(args as never) as tf.TensorInfo;
  const out = (args.backend as WasmBackendLike).makeOutput([...gate.shape], "float32");
  kernels.swiglu(kernels.offsetOf(gate), kernels.offsetOf(up), kernels.offsetOf(out), size);
  return out;
}

/** dgate, dup or both (in that order) from the C kernel that writes both in one pass; 0 for an output not wanted. */
function wasmGrad(wants: { dgate: boolean; dup: boolean }, host: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const kernels = cKernels();
    const { gate, up, dy } = args.inputs as { gate: tf.TensorInfo; up?: tf.TensorInfo; dy: tf.TensorInfo };
    const n = sizeOf(gate);
    if (!kernels || n === 0) return host(args as never);
    const backend = args.backend as WasmBackendLike;
    const dgate = wants.dgate ? backend.makeOutput([...gate.shape], "float32") : null;
    const dup = wants.dup ? backend.makeOutput([...gate.shape], "float32") : null;
    const at = (info: tf.TensorInfo | null | undefined) => (info ? kernels.offsetOf(info) : 0);
    kernels.swigluGrad({ gate: at(gate), up: at(dgate && up), dy: at(dy), dgate: at(dgate), dup: at(dup), n });
    const outputs = [dgate, dup].filter((o): o is tf.TensorInfo => o !== null);
    return outputs.length === 1 ? outputs[0] : outputs;
  };
}

const wasmGradGate = wasmGrad({ dgate: true, dup: false }, hostGradGate);
const wasmGradUp = wasmGrad({ dgate: false, dup: true }, hostGradUp);
const wasmGradBoth = wasmGrad({ dgate: true, dup: true }, wasmKernelFunc(SWIGLU_GRAD, gradBothHost));

/** Both gradients on webgpu: its two single-output programs. */
function webgpuSwigluGradBoth(args: KernelArgs): tf.TensorInfo[] {
  return [webgpuSwigluGradGate(args), webgpuSwigluGradUp(args)];
}

/**
 * On wasm with llamats' kernels, dgate and dup in one pass (gate and up share their input, so both are almost always
 * wanted; a lone one costs only an extra write). Elsewhere one kernel per input: tfjs calls only those whose input
 * leads to a trained variable.
 */
const gradient: tf.GradConfig = {
  kernelName: SWIGLU,
  inputsToSave: ["gate", "up"],
  gradFunc: (dy, saved) => {
    const [gate, up] = saved;
    if (cKernels()) {
      const [dgate, dup] = tf.engine().runKernel<tf.Tensor[]>(SWIGLU_GRAD, { gate, up, dy: dy as tf.Tensor });
      return { gate: () => dgate, up: () => dup };
    }
    return {
      gate: () => tf.engine().runKernel<tf.Tensor>(SWIGLU_GRAD_GATE, { gate, up, dy: dy as tf.Tensor }),
      up: () => tf.engine().runKernel<tf.Tensor>(SWIGLU_GRAD_UP, { gate, dy: dy as tf.Tensor }),
    };
  },
};

export const swigluOp: LlamatsOp = {
  kernels: [
    {
      name: SWIGLU,
      cpu: cpuKernelFunc(SWIGLU, forwardHost),
      wasm: wasmForward,
      webgpu: webgpuSwiglu,
    },
    {
      name: SWIGLU_GRAD_GATE,
      cpu: cpuKernelFunc(SWIGLU_GRAD_GATE, gradGateHost),
      wasm: wasmGradGate,
      webgpu: webgpuSwigluGradGate,
    },
    {
      name: SWIGLU_GRAD_UP,
      cpu: cpuKernelFunc(SWIGLU_GRAD_UP, gradUpHost),
      wasm: wasmGradUp,
      webgpu: webgpuSwigluGradUp,
    },
    {
      name: SWIGLU_GRAD,
      cpu: cpuKernelFunc(SWIGLU_GRAD, gradBothHost),
      wasm: wasmGradBoth,
      webgpu: webgpuSwigluGradBoth,
    },
  ],
  gradients: [gradient],
};
