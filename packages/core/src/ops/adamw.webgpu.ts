import type * as tf from "@tensorflow/tfjs-core";
import type { KernelArgs } from "./kernel-types.js";
import { elementwiseProgram, runProgram, type UniformValue } from "./webgpu-program.js";

const f32 = (name: string, value: number): UniformValue => ({ name, type: "f32", value });

/** New moments [2, ...shape] (m then v) from grad and the old ones: one thread per output element. */
export function webgpuAdamWMoments(args: KernelArgs): tf.TensorInfo {
  const { grad, moments } = args.inputs as Record<"grad" | "moments", tf.TensorInfo>;
  const n = grad.shape.reduce((a, b) => a * b, 1);
  const program = elementwiseProgram({
    key: "adamw_moments",
    outputSize: 2 * n,
    inputs: ["grad", "moments"],
    uniforms: [
      { name: "n", type: "i32", value: n },
      f32("beta1", args.attrs!.beta1 as number),
      f32("beta2", args.attrs!.beta2 as number),
    ],
    body: `
    if (index < uniforms.n) {
      setOutputAtIndex(index, uniforms.beta1 * moments[index] + (1.0 - uniforms.beta1) * grad[index]);
    } else {
      let g = grad[index - uniforms.n];
      setOutputAtIndex(index, uniforms.beta2 * moments[index] + (1.0 - uniforms.beta2) * g * g);
    }`,
  });
  return runProgram(args.backend, program, [grad, moments], [...moments.shape]);
}

/** The new parameter from the old one and the new moments. */
export function webgpuAdamWParam(args: KernelArgs): tf.TensorInfo {
  const { param, moments } = args.inputs as Record<"param" | "moments", tf.TensorInfo>;
  const n = param.shape.reduce((a, b) => a * b, 1);
  const attrs = args.attrs!;
  const program = elementwiseProgram({
    key: "adamw_param",
    outputSize: n,
    inputs: ["param", "moments"],
    uniforms: [
      { name: "n", type: "i32", value: n },
      f32("decay", attrs.decay as number),
      f32("stepSize", attrs.stepSize as number),
      f32("biasCorrection2Sqrt", attrs.biasCorrection2Sqrt as number),
      f32("epsilon", attrs.epsilon as number),
    ],
    body: `
    let denom = sqrt(moments[index + uniforms.n]) / uniforms.biasCorrection2Sqrt + uniforms.epsilon;
    setOutputAtIndex(index, param[index] * uniforms.decay - uniforms.stepSize * (moments[index] / denom));`,
  });
  return runProgram(args.backend, program, [param, moments], [...param.shape]);
}
