import type * as tf from "@tensorflow/tfjs-core";
import type { KernelArgs } from "./kernel-types.js";
import { elementwiseProgram, runProgram } from "./webgpu-program.js";

type Inputs = { gate: tf.TensorInfo; up: tf.TensorInfo; dy: tf.TensorInfo };

/** sigmoid written out: exp(−g) overflowing to +inf still gives 0. */
const SIGMOID_WGSL = `
fn sigmoidOf(g : f32) -> f32 { return 1.0 / (1.0 + exp(-g)); }
`;

/** One elementwise dispatch each, over flat views of same-shaped tensors. */
function run(args: KernelArgs, key: string, names: (keyof Inputs)[], body: string): tf.TensorInfo {
  const inputs = args.inputs as Inputs;
  const { shape } = inputs.gate;
  const size = shape.reduce((a, b) => a * b, 1);
  const program = elementwiseProgram({ key, outputSize: size, inputs: names, prelude: SIGMOID_WGSL, body });
  return runProgram(
    args.backend,
    program,
    names.map((n) => inputs[n]),
    [...shape],
  );
}

export function webgpuSwiglu(args: KernelArgs): tf.TensorInfo {
  return run(
    args,
    "swiglu",
    ["gate", "up"],
    "let g = gate[index]; setOutputAtIndex(index, g * sigmoidOf(g) * up[index]);",
  );
}

export function webgpuSwigluGradGate(args: KernelArgs): tf.TensorInfo {
  return run(
    args,
    "swiglu_dgate",
    ["gate", "up", "dy"],
    "let g = gate[index]; let s = sigmoidOf(g); setOutputAtIndex(index, dy[index] * up[index] * s * (1.0 + g * (1.0 - s)));",
  );
}

export function webgpuSwigluGradUp(args: KernelArgs): tf.TensorInfo {
  return run(
    args,
    "swiglu_dup",
    ["gate", "dy"],
    "let g = gate[index]; setOutputAtIndex(index, dy[index] * g * sigmoidOf(g));",
  );
}
