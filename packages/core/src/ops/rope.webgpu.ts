import type * as tf from "@tensorflow/tfjs-core";
import { headDims, headLayout } from "./head-layout.js";
import type { KernelArgs } from "./kernel-types.js";
import { elementwiseProgram, runProgram } from "./webgpu-program.js";

/**
 * Where a thread's element sits: column i of vector `vec`, and the start of its position's table row. headsInner is
 * 1 for [batch, heads, seq, dim] and heads for [batch, seq, heads, dim] (positions step over the heads).
 */
const COORDS = `
  let dim = uniforms.dim;
  let half = dim / 2;
  let i = index % dim;
  let vec = index / dim;
  let s = (vec / uniforms.headsInner) % uniforms.seq;
  let b = vec / (uniforms.heads * uniforms.seq);
  let t = (select(b, 0, uniforms.tableBatch == 1) * uniforms.seq + s) * dim;
`;

/** (a, b) → (a·cos − b·sin, b·cos + a·sin), one output element per thread. */
const FORWARD_BODY = `${COORDS}
  var rotated = 0.0;
  if (i < half) { rotated = -x[index + half]; } else { rotated = x[index - half]; }
  setOutputAtIndex(index, x[index] * cosTable[t + i] + rotated * sinTable[t + i]);
`;

/** The transpose: sin is read at the partner's column. */
const GRAD_BODY = `${COORDS}
  var rotated = 0.0;
  if (i < half) { rotated = dy[index + half] * sinTable[t + i + half]; } else { rotated = -dy[index - half] * sinTable[t + i - half]; }
  setOutputAtIndex(index, dy[index] * cosTable[t + i] + rotated);
`;

function run(args: KernelArgs, input: "x" | "dy", key: string, body: string): tf.TensorInfo {
  const inputs = args.inputs as Record<"x" | "dy" | "cosTable" | "sinTable", tf.TensorInfo>;
  const { shape } = inputs[input];
  const layout = headLayout(args.attrs?.layout, "rope");
  const { heads, seq, dim } = headDims(shape, layout);
  const program = elementwiseProgram({
    key,
    outputSize: shape.reduce((a, b) => a * b, 1),
    inputs: [input, "cosTable", "sinTable"],
    uniforms: [
      { name: "heads", type: "i32", value: heads },
      { name: "seq", type: "i32", value: seq },
      { name: "dim", type: "i32", value: dim },
      { name: "tableBatch", type: "i32", value: inputs.cosTable.shape[0] },
      { name: "headsInner", type: "i32", value: layout === "bshd" ? heads : 1 },
    ],
    body,
  });
  return runProgram(args.backend, program, [inputs[input], inputs.cosTable, inputs.sinTable], [...shape]);
}

/** One elementwise dispatch. */
export function webgpuRope(args: KernelArgs): tf.TensorInfo {
  return run(args, "x", "rope", FORWARD_BODY);
}

/** One elementwise dispatch. */
export function webgpuRopeGrad(args: KernelArgs): tf.TensorInfo {
  return run(args, "dy", "rope_grad", GRAD_BODY);
}
