import type * as tf from "@tensorflow/tfjs-core";
import type { KernelArgs } from "./kernel-types.js";
import { ROW_THREADS, elementwiseProgram, rowProgram, runProgram } from "./webgpu-program.js";

type Inputs = { logits: tf.TensorInfo; targets: tf.TensorInfo; lse: tf.TensorInfo; dy: tf.TensorInfo };

/** logsumexp of each row in one read: every thread keeps an online (max, sum), then the workgroup merges them. */
const LSE_BODY = `
  let cols = select(0, uniforms.cols, row < uniforms.rows);
  let base = row * uniforms.cols;
  var m = -3.402823e+38f;
  var s = 0.0;
  for (var c = tid; c < cols; c = c + ${ROW_THREADS}) {
    let v = logits[base + c];
    if (v > m) { s = s * exp(m - v) + 1.0; m = v; } else { s = s + exp(v - m); }
  }
  let rowMax = workgroupMax(m);
  let rowSum = workgroupSum(s * exp(m - rowMax));
  if (tid == 0 && row < uniforms.rows) { setOutputAtIndex(row, rowMax + log(rowSum)); }
`;

/** nll = lse − x[target] per row: 0 where ignored, NaN for a target outside the vocabulary. */
const NLL_BODY = `
  let t = targets[index];
  var loss = 0.0;
  if (t != uniforms.ignoreIndex) {
    loss = uniforms.NAN;
    if (t >= 0 && t < uniforms.cols) { loss = lse[index] - logits[index * uniforms.cols + t]; }
  }
  setOutputAtIndex(index, loss);
`;

/** (softmax − onehot) · dy, one element per thread: the one-hot is a comparison, never a tensor. */
const GRAD_BODY = `
  let row = index / uniforms.cols;
  let t = targets[row];
  var g = 0.0;
  if (t != uniforms.ignoreIndex) {
    g = uniforms.NAN;
    if (t >= 0 && t < uniforms.cols) {
      g = exp(logits[index] - lse[row]) * dy[row];
      if (index - row * uniforms.cols == t) { g = g - dy[row]; }
    }
  }
  setOutputAtIndex(index, g);
`;

/** Two dispatches: logsumexp per row (one workgroup each), then nll per row. */
export function webgpuCrossEntropy(args: KernelArgs): tf.TensorInfo[] {
  const { logits, targets } = args.inputs as Inputs;
  const [rows, cols] = logits.shape;
  const ignoreIndex = args.attrs!.ignoreIndex as number;
  const lseProgram = rowProgram({
    key: "ce_lse",
    rows,
    outputSize: rows,
    inputs: ["logits"],
    uniforms: [
      { name: "rows", type: "i32", value: rows },
      { name: "cols", type: "i32", value: cols },
    ],
    body: LSE_BODY,
  });
  const lse = runProgram(args.backend, lseProgram, [logits], [rows]);
  const nllProgram = elementwiseProgram({
    key: "ce_nll",
    outputSize: rows,
    inputs: ["logits", "targets", "lse"],
    uniforms: [
      { name: "cols", type: "i32", value: cols },
      { name: "ignoreIndex", type: "i32", value: ignoreIndex },
    ],
    body: NLL_BODY,
  });
  const nll = runProgram(args.backend, nllProgram, [logits, targets, lse], [rows]);
  return [nll, lse];
}

/** One dispatch over rows × vocab. */
export function webgpuCrossEntropyGrad(args: KernelArgs): tf.TensorInfo {
  const { logits, targets, lse, dy } = args.inputs as Inputs;
  const [rows, cols] = logits.shape;
  const program = elementwiseProgram({
    key: "ce_grad",
    outputSize: rows * cols,
    inputs: ["logits", "targets", "lse", "dy"],
    uniforms: [
      { name: "cols", type: "i32", value: cols },
      { name: "ignoreIndex", type: "i32", value: args.attrs!.ignoreIndex as number },
    ],
    body: GRAD_BODY,
  });
  return runProgram(args.backend, program, [logits, targets, lse, dy], [rows, cols]);
}
