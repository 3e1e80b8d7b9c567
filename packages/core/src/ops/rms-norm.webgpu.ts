import type * as tf from "@tensorflow/tfjs-core";
import type { KernelArgs } from "./kernel-types.js";
import {
  ROW_THREADS,
  disposeIntermediate,
  elementwiseProgram,
  rowProgram,
  runProgram,
  type UniformValue,
} from "./webgpu-program.js";

type Inputs = { x: tf.TensorInfo; weight: tf.TensorInfo; dy: tf.TensorInfo };

/** Rows of `hidden` in x: the kernels see x as [rows, hidden] whatever its rank. */
function rowsAndHidden(x: tf.TensorInfo): [number, number] {
  const hidden = x.shape[x.shape.length - 1];
  const size = x.shape.reduce((a, b) => a * b, 1);
  return [hidden === 0 ? 0 : size / hidden, hidden];
}

function uniforms(rows: number, hidden: number, eps: number): UniformValue[] {
  return [
    { name: "rows", type: "i32", value: rows },
    { name: "cols", type: "i32", value: hidden },
    { name: "eps", type: "f32", value: eps },
  ];
}

/** Every row body starts here: its columns (none past the last row), its offset, and the sum of its squares. */
const ROW_SCALE = `
  let cols = select(0, uniforms.cols, row < uniforms.rows);
  let base = row * uniforms.cols;
  var ss = 0.0;
  for (var c = tid; c < cols; c = c + ${ROW_THREADS}) { let v = x[base + c]; ss = ss + v * v; }
  let scale = inverseSqrt(workgroupSum(ss) / f32(uniforms.cols) + uniforms.eps);
`;

const FORWARD_BODY = `${ROW_SCALE}
  for (var c = tid; c < cols; c = c + ${ROW_THREADS}) { setOutputAtIndex(base + c, x[base + c] * scale * weight[c]); }
`;

const GRAD_X_BODY = `${ROW_SCALE}
  var dot = 0.0;
  for (var c = tid; c < cols; c = c + ${ROW_THREADS}) { dot = dot + dy[base + c] * weight[c] * x[base + c]; }
  let coef = workgroupSum(dot) * scale * scale * scale / f32(uniforms.cols);
  for (var c = tid; c < cols; c = c + ${ROW_THREADS}) {
    setOutputAtIndex(base + c, scale * weight[c] * dy[base + c] - x[base + c] * coef);
  }
`;

const SCALE_BODY = `${ROW_SCALE}
  if (tid == 0 && row < uniforms.rows) { setOutputAtIndex(row, scale); }
`;

/** One thread per column walks down the rows: dw[c] = Σ dy · x · scale. */
const GRAD_WEIGHT_BODY = `
  var acc = 0.0;
  for (var r = 0; r < uniforms.rows; r = r + 1) {
    let i = r * uniforms.cols + index;
    acc = acc + dy[i] * x[i] * rowScale[r];
  }
  setOutputAtIndex(index, acc);
`;

/** One dispatch: a workgroup per row reduces x² and writes the row. */
export function webgpuRmsNorm(args: KernelArgs): tf.TensorInfo {
  const { x, weight } = args.inputs as Inputs;
  const [rows, hidden] = rowsAndHidden(x);
  const program = rowProgram({
    key: "rms_norm",
    rows,
    outputSize: rows * hidden,
    inputs: ["x", "weight"],
    uniforms: uniforms(rows, hidden, args.attrs!.eps as number),
    body: FORWARD_BODY,
  });
  return runProgram(args.backend, program, [x, weight], [...x.shape]);
}

/** One dispatch: a workgroup per row reduces x² and dy · w · x, then writes dx. */
export function webgpuRmsNormGradX(args: KernelArgs): tf.TensorInfo {
  const { x, weight, dy } = args.inputs as Inputs;
  const [rows, hidden] = rowsAndHidden(x);
  const program = rowProgram({
    key: "rms_norm_dx",
    rows,
    outputSize: rows * hidden,
    inputs: ["x", "weight", "dy"],
    uniforms: uniforms(rows, hidden, args.attrs!.eps as number),
    body: GRAD_X_BODY,
  });
  return runProgram(args.backend, program, [x, weight, dy], [...x.shape]);
}

/** Two dispatches: each row's scale, then a column sum over rows. */
export function webgpuRmsNormGradWeight(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as Inputs;
  const [rows, hidden] = rowsAndHidden(x);
  const values = uniforms(rows, hidden, args.attrs!.eps as number);
  const scale = runProgram(
    args.backend,
    rowProgram({ key: "rms_norm_scale", rows, outputSize: rows, inputs: ["x"], uniforms: values, body: SCALE_BODY }),
    [x],
    [rows],
  );
  const program = elementwiseProgram({
    key: "rms_norm_dw",
    outputSize: hidden,
    inputs: ["x", "dy", "rowScale"],
    uniforms: values,
    body: GRAD_WEIGHT_BODY,
  });
  const dw = runProgram(args.backend, program, [x, dy, scale], [hidden]);
  disposeIntermediate(args.backend, scale);
  return dw;
}
