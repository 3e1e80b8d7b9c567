import * as tf from "@tensorflow/tfjs-core";
import { wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { WasmKernels } from "../kernels/wasm-kernels.js";
import { cpuKernelFunc, heapView, wasmKernelFunc, type HostKernel, type WasmBackendLike } from "./host-kernel.js";
import type { KernelArgs, LlamatsOp } from "./kernel-types.js";
import { webgpuCrossEntropy, webgpuCrossEntropyGrad } from "./softmax-cross-entropy.webgpu.js";

/** logits [rows, vocab], targets [rows] int32 → [nll [rows], logsumexp [rows]]; attrs { ignoreIndex }. */
export const SOFTMAX_CROSS_ENTROPY = "LlamatsSoftmaxCrossEntropy";
/** logits, targets, lse [rows], dy [rows] → (softmax − onehot(target)) · dy [rows, vocab]; attrs { ignoreIndex }. */
export const SOFTMAX_CROSS_ENTROPY_GRAD = "LlamatsSoftmaxCrossEntropyGrad";

/** A row counts when its target is not the ignore index; a counted target outside [0, vocab) makes the row NaN. */
function inVocab(target: number, vocab: number): boolean {
  return target >= 0 && target < vocab;
}

/** nll[r] = logsumexp(x[r]) − x[r, target[r]]; 0 for ignored rows, NaN for targets outside the vocabulary. */
function crossEntropyRows(
  x: Float32Array,
  targets: Int32Array,
  nll: Float32Array,
  lse: Float32Array,
  vocab: number,
  ignore: number,
): void {
  for (let r = 0; r < targets.length; r++) {
    const row = r * vocab;
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) if (x[row + i] > max) max = x[row + i];
    let sum = 0;
    for (let i = 0; i < vocab; i++) sum += Math.exp(x[row + i] - max);
    const logSumExp = max + Math.log(sum);
    const t = targets[r];
    lse[r] = logSumExp;
    nll[r] = t === ignore ? 0 : inVocab(t, vocab) ? logSumExp - x[row + t] : NaN;
  }
}

/** grad[r] = (exp(x[r] − lse[r]) − onehot(target[r])) · dy[r]; zero rows for ignored targets. */
function crossEntropyGradRows(
  x: Float32Array,
  targets: Int32Array,
  lse: Float32Array,
  dy: Float32Array,
  grad: Float32Array,
  vocab: number,
  ignore: number,
): void {
  for (let r = 0; r < targets.length; r++) {
    const row = r * vocab;
    const t = targets[r];
    if (t === ignore || !inVocab(t, vocab)) {
      grad.fill(t === ignore ? 0 : NaN, row, row + vocab);
      continue;
    }
    const g = dy[r];
    const l = lse[r];
    for (let i = 0; i < vocab; i++) grad[row + i] = Math.exp(x[row + i] - l) * g;
    grad[row + t] -= g;
  }
}

const forwardHost: HostKernel = {
  inputs: ["logits", "targets"],
  outputShapes: ({ logits }) => [[logits.shape[0]], [logits.shape[0]]],
  run: ({ logits, targets }, [nll, lse], infos, attrs) =>
    crossEntropyRows(
      logits as Float32Array,
      targets as Int32Array,
      nll,
      lse,
      infos.logits.shape[1],
      attrs.ignoreIndex as number,
    ),
};

const backwardHost: HostKernel = {
  inputs: ["logits", "targets", "lse", "dy"],
  outputShapes: ({ logits }) => [[...logits.shape]],
  run: ({ logits, targets, lse, dy }, [grad], infos, attrs) =>
    crossEntropyGradRows(
      logits as Float32Array,
      targets as Int32Array,
      lse as Float32Array,
      dy as Float32Array,
      grad,
      infos.logits.shape[1],
      attrs.ignoreIndex as number,
    ),
};

/** llamats' SIMD kernel (kernels/llamats-kernels.c) when installed; it indexes rows by target, so we give it in-vocabulary ones. */
function cKernels(): WasmKernels | null {
  return wasmKernelsInstalled() ? WasmKernels.get() : null;
}

/**
 * Targets the C kernel may index with, in scratch at byte offset `at`: −1 for ignored rows (the kernel skips them:
 * 0 loss, 0 gradient), column 0 for counted ones outside the vocabulary (made NaN by the caller).
 */
function writeKernelTargets(
  kernels: WasmKernels,
  at: number,
  targets: Int32Array,
  vocab: number,
  ignore: number,
): void {
  const out = new Int32Array(kernels.heapF32().buffer, at, targets.length);
  for (let r = 0; r < targets.length; r++)
    out[r] = targets[r] === ignore ? -1 : inVocab(targets[r], vocab) ? targets[r] : 0;
}

const hostForward = wasmKernelFunc(SOFTMAX_CROSS_ENTROPY, forwardHost);
const hostBackward = wasmKernelFunc(SOFTMAX_CROSS_ENTROPY_GRAD, backwardHost);

function wasmForward(args: KernelArgs): tf.TensorInfo[] {
  const kernels = cKernels();
  const { logits, targets } = args.inputs as { logits: tf.TensorInfo; targets: tf.TensorInfo };
  const [rows, vocab] = logits.shape;
  if (!kernels || rows === 0 || vocab === 0) return hostForward(args as never) as tf.TensorInfo[];
  const ignore = args.attrs!.ignoreIndex as number;
  const backend = args.backend as WasmBackendLike;
  const nll = backend.makeOutput([rows], "float32");
  const lse = backend.makeOutput([rows], "float32");
  const scratch = kernels.malloc(rows * 4);
  try {
    writeKernelTargets(kernels, scratch, heapView(backend, targets) as Int32Array, vocab, ignore);
    kernels.crossEntropy({
      logits: kernels.offsetOf(logits),
      targets: scratch,
      nll: kernels.offsetOf(nll),
      lse: kernels.offsetOf(lse),
      dy: 0,
      grad: 0,
      rows,
      vocab,
    });
    const t = heapView(backend, targets);
    const n = heapView(backend, nll);
    for (let r = 0; r < rows; r++) if (t[r] !== ignore && !inVocab(t[r], vocab)) n[r] = NaN;
  } finally {
    kernels.free(scratch);
  }
  return [nll, lse];
}

function wasmBackward(args: KernelArgs): tf.TensorInfo {
  const kernels = cKernels();
  const { logits, targets, lse, dy } = args.inputs as {
    logits: tf.TensorInfo;
    targets: tf.TensorInfo;
    lse: tf.TensorInfo;
    dy: tf.TensorInfo;
  };
  const [rows, vocab] = logits.shape;
  if (!kernels || rows === 0 || vocab === 0) return hostBackward(args as never) as tf.TensorInfo;
  const ignore = args.attrs!.ignoreIndex as number;
  const backend = args.backend as WasmBackendLike;
  const grad = backend.makeOutput([rows, vocab], "float32");
  // Kernel targets, then dy with NaN for out-of-vocabulary rows; the forward's logsumexp saves a pass over the logits.
  const scratch = kernels.malloc(rows * 8);
  try {
    const t = heapView(backend, targets) as Int32Array;
    writeKernelTargets(kernels, scratch, t, vocab, ignore);
    const d = heapView(backend, dy);
    const masked = new Float32Array(kernels.heapF32().buffer, scratch + rows * 4, rows);
    for (let r = 0; r < rows; r++) masked[r] = t[r] === ignore || inVocab(t[r], vocab) ? d[r] : NaN;
    kernels.crossEntropy({
      logits: kernels.offsetOf(logits),
      targets: scratch,
      nll: 0,
      dy: scratch + rows * 4,
      grad: kernels.offsetOf(grad),
      lse: kernels.offsetOf(lse),
      rows,
      vocab,
    });
  } finally {
    kernels.free(scratch);
  }
  return grad;
}

/** d(nll)/d(logits) in one kernel from the saved logsumexp; targets get no gradient. */
const gradient: tf.GradConfig = {
  kernelName: SOFTMAX_CROSS_ENTROPY,
  inputsToSave: ["logits", "targets"],
  outputsToSave: [false, true],
  gradFunc: (dy, saved, attrs) => {
    const [logits, targets, lse] = saved;
    const dNll = Array.isArray(dy) ? dy[0] : dy;
    return {
      logits: () =>
        tf.engine().runKernel<tf.Tensor>(SOFTMAX_CROSS_ENTROPY_GRAD, { logits, targets, lse, dy: dNll }, attrs),
      targets: () => tf.zeros(targets.shape),
    };
  },
};

export const softmaxCrossEntropyOp: LlamatsOp = {
  kernels: [
    {
      name: SOFTMAX_CROSS_ENTROPY,
      cpu: cpuKernelFunc(SOFTMAX_CROSS_ENTROPY, forwardHost),
      wasm: wasmForward,
      webgpu: webgpuCrossEntropy,
    },
    {
      name: SOFTMAX_CROSS_ENTROPY_GRAD,
      cpu: cpuKernelFunc(SOFTMAX_CROSS_ENTROPY_GRAD, backwardHost),
      wasm: wasmBackward,
      webgpu: webgpuCrossEntropyGrad,
    },
  ],
  gradients: [gradient],
};
