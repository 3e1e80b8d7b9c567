import * as tf from '@tensorflow/tfjs-core';
import { wasmKernelsInstalled } from '../kernels/install-kernels.js';
import { WasmKernels } from '../kernels/wasm-kernels.js';
import { cpuKernelFunc, heapView, wasmKernelFunc, type HostInputs, type HostKernel, type WasmBackendLike } from './host-kernel.js';
import type { KernelArgs, LlamatsOp } from './kernel-types.js';
import { webgpuSwiglu, webgpuSwigluGradGate, webgpuSwigluGradUp } from './swiglu.webgpu.js';

/** gate, up (same shape) → silu(gate) · up. */
export const SWIGLU = 'LlamatsSwiglu';
/** gate, up, dy → dgate = dy · up · silu'(gate). */
export const SWIGLU_GRAD_GATE = 'LlamatsSwigluGradGate';
/** gate, dy → dup = dy · silu(gate). */
export const SWIGLU_GRAD_UP = 'LlamatsSwigluGradUp';

function sigmoid(g: number): number {
  return 1 / (1 + Math.exp(-g));
}

/** y = g · sigmoid(g) · u. */
export function swigluElements(gate: Float32Array, up: Float32Array, y: Float32Array): void {
  for (let i = 0; i < gate.length; i++) y[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

/** dgate = dy · u · s · (1 + g · (1 − s)), with s = sigmoid(g): the derivative of g · s. */
export function swigluGradGateElements(gate: Float32Array, up: Float32Array, dy: Float32Array, dgate: Float32Array): void {
  for (let i = 0; i < gate.length; i++) {
    const s = sigmoid(gate[i]);
    dgate[i] = dy[i] * up[i] * s * (1 + gate[i] * (1 - s));
  }
}

/** dup = dy · g · sigmoid(g). */
export function swigluGradUpElements(gate: Float32Array, dy: Float32Array, dup: Float32Array): void {
  for (let i = 0; i < gate.length; i++) dup[i] = dy[i] * gate[i] * sigmoid(gate[i]);
}

const forwardHost: HostKernel = {
  inputs: ['gate', 'up'],
  outputShapes: ({ gate }) => [[...gate.shape]],
  run: ({ gate, up }, [y]) => swigluElements(gate as Float32Array, up as Float32Array, y),
};

const gradGateHost: HostKernel = {
  inputs: ['gate', 'up', 'dy'],
  outputShapes: ({ gate }) => [[...gate.shape]],
  run: ({ gate, up, dy }, [dgate]) => swigluGradGateElements(gate as Float32Array, up as Float32Array, dy as Float32Array, dgate),
};

const gradUpHost: HostKernel = {
  inputs: ['gate', 'dy'],
  outputShapes: ({ gate }) => [[...gate.shape]],
  run: ({ gate, dy }, [dup]) => swigluGradUpElements(gate as Float32Array, dy as Float32Array, dup),
};

/** sigmoid(g) from e = exp(g): 1 / (1 + 1/e) is exact at both ends (e = 0, e = +inf). */
function sigmoidFromExp(e: number): number {
  return 1 / (1 + 1 / e);
}

/**
 * On wasm with llamats' SIMD kernels installed: exp(gate) goes into the output first (the costly part, SIMD and
 * threaded; Math.exp is most of a plain JS loop's time), then a JS pass finishes each element from it.
 */
function wasmWithSimdExp(name: string, host: HostKernel, finish: (out: Float32Array, inputs: HostInputs) => void): tf.KernelFunc {
  const plain = wasmKernelFunc(name, host);
  return ((args: KernelArgs) => {
    const kernels = wasmKernelsInstalled() ? WasmKernels.get() : null;
    const gate = args.inputs.gate!;
    const size = gate.shape.reduce((a, b) => a * b, 1);
    if (!kernels || size === 0) return plain(args as never);
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput([...gate.shape], 'float32');
    kernels.exp(kernels.offsetOf(gate), kernels.offsetOf(out), size);
    const inputs: HostInputs = {};
    for (const input of host.inputs) inputs[input] = heapView(backend, args.inputs[input]!);
    finish(heapView(backend, out) as Float32Array, inputs);
    return out;
  }) as unknown as tf.KernelFunc;
}

const wasmForward = wasmWithSimdExp(SWIGLU, forwardHost, (y, { gate, up }) => {
  for (let i = 0; i < y.length; i++) y[i] = gate[i] * sigmoidFromExp(y[i]) * up[i];
});

const wasmGradGate = wasmWithSimdExp(SWIGLU_GRAD_GATE, gradGateHost, (dgate, { gate, up, dy }) => {
  for (let i = 0; i < dgate.length; i++) {
    const s = sigmoidFromExp(dgate[i]);
    dgate[i] = dy[i] * up[i] * s * (1 + gate[i] * (1 - s));
  }
});

const wasmGradUp = wasmWithSimdExp(SWIGLU_GRAD_UP, gradUpHost, (dup, { gate, dy }) => {
  for (let i = 0; i < dup.length; i++) dup[i] = dy[i] * gate[i] * sigmoidFromExp(dup[i]);
});

/** dgate and dup as separate kernels: tfjs calls only those whose input leads to a trained variable. */
const gradient: tf.GradConfig = {
  kernelName: SWIGLU,
  inputsToSave: ['gate', 'up'],
  gradFunc: (dy, saved) => {
    const [gate, up] = saved;
    return {
      gate: () => tf.engine().runKernel(SWIGLU_GRAD_GATE, { gate, up, dy: dy as tf.Tensor }) as tf.Tensor,
      up: () => tf.engine().runKernel(SWIGLU_GRAD_UP, { gate, dy: dy as tf.Tensor }) as tf.Tensor,
    };
  },
};

export const swigluOp: LlamatsOp = {
  kernels: [
    { name: SWIGLU, cpu: cpuKernelFunc(SWIGLU, forwardHost), wasm: wasmForward, webgpu: webgpuSwiglu as unknown as tf.KernelFunc },
    { name: SWIGLU_GRAD_GATE, cpu: cpuKernelFunc(SWIGLU_GRAD_GATE, gradGateHost), wasm: wasmGradGate, webgpu: webgpuSwigluGradGate as unknown as tf.KernelFunc },
    { name: SWIGLU_GRAD_UP, cpu: cpuKernelFunc(SWIGLU_GRAD_UP, gradUpHost), wasm: wasmGradUp, webgpu: webgpuSwigluGradUp as unknown as tf.KernelFunc },
  ],
  gradients: [gradient],
};
