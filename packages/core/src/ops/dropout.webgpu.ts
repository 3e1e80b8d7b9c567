import type * as tf from "@tensorflow/tfjs-core";
import type { KernelArgs } from "./kernel-types.js";
import { DROPOUT_BITS } from "./dropout-mask.js";
import { elementwiseProgram, runProgram } from "./webgpu-program.js";

/** dropout-mask.ts's hash in WGSL: u32 arithmetic wraps as Math.imul does. */
const HASH_WGSL = `
fn lowbias32(v : u32) -> u32 {
  var x = v;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  return x ^ (x >> 16u);
}
`;

/** x · mask · scale with the mask hashed from (seed, index): one thread an element. */
export function webgpuDropout(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const attrs = args.attrs!;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const program = elementwiseProgram({
    key: "dropout",
    outputSize: size,
    inputs: ["x"],
    uniforms: [
      // WebGPU uniforms here are i32 or f32: the seed's 32 bits travel as an i32 and are reinterpreted.
      { name: "seed", type: "i32", value: (attrs.seed as number) | 0 },
      { name: "threshold", type: "i32", value: attrs.threshold as number },
      { name: "scale", type: "f32", value: attrs.scale as number },
    ],
    prelude: HASH_WGSL,
    body: `
    let bits = lowbias32(lowbias32(u32(index)) ^ bitcast<u32>(uniforms.seed)) >> ${32 - DROPOUT_BITS}u;
    setOutputAtIndex(index, select(0.0, x[index] * uniforms.scale, bits >= u32(uniforms.threshold)));`,
  });
  return runProgram(args.backend, program, [x], [...x.shape]);
}
