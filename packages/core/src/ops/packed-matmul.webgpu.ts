import type * as tf from "@tensorflow/tfjs-core";
import { NF4_CODE } from "../quantize/nf4.js";
import type { KernelArgs } from "./kernel-types.js";
import { webgpuDeviceFeatures } from "../backend/webgpu-device.js";
import { packedAttrs } from "./packed-matmul.attrs.js";
import { MATVEC_MAX_ROWS, webgpuPackedMatVec } from "./packed-matvec.webgpu.js";
import { tiledMatMul } from "./matmul.webgpu.js";
import { elementwiseProgram, runProgram } from "./webgpu-program.js";

/** W's flat element f, unpacked in registers (words is tfjs's array<i32> of the packed 32-bit words). */
const WEIGHT_AT: Record<number, string> = {
  1: `
fn weightAt(f : i32) -> f32 {
  // Never taken (pblock is 0): a shader that reads no scales loses their binding, and tfjs always binds them.
  if (uniforms.pblock < 0) { return scales[0]; }
  let word = bitcast<u32>(words[f >> 1u]);
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (f & 1) == 1));
}`,
  2: `
fn weightAt(f : i32) -> f32 {
  let word = bitcast<u32>(words[f >> 2u]);
  let q = bitcast<i32>(word << (24u - 8u * u32(f & 3))) >> 24u;
  return f32(q) * scales[f >> 5u];
}`,
  3: `
var<private> NF4 : array<f32, 16> = array<f32, 16>(${Array.from(NF4_CODE, (c) => `${c}`).join(", ")});
fn weightAt(f : i32) -> f32 {
  let word = bitcast<u32>(words[f >> 3u]);
  let byte = (word >> (8u * u32((f >> 1u) & 3))) & 0xffu;
  return NF4[select(byte >> 4u, byte & 15u, (f & 1) == 1)] * scales[f / uniforms.pblock];
}`,
};

/**
 * PACKED_MATMUL (forward) or PACKED_MATMUL_GRAD_X on webgpu: one dispatch. A decode step's forward (≤ 4 rows) on a
 * device with subgroups is a subgroup mat-vec (packed-matvec.webgpu.ts); everything else is the float32 matmul's tiled
 * kernel (register blocks, tiles from the device's limits) with W unpacked as its tile is staged: forward B = Wᵀ,
 * dX B = W.
 */
export function webgpuPackedMatMul(args: KernelArgs, forward: boolean): tf.TensorInfo {
  const a = packedAttrs(args.attrs);
  const inputs = args.inputs as Record<string, tf.TensorInfo>;
  const input = forward ? inputs.x : inputs.dy;
  const m = input.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const features = webgpuDeviceFeatures(args.backend);
  const addend = forward ? inputs.addend : undefined;
  if (forward && m <= MATVEC_MAX_ROWS && features.subgroups)
    return webgpuPackedMatVec(args.backend, input, { words: inputs.words, scales: inputs.scales }, a, features, addend);
  const [n, k] = forward ? [a.outFeatures, a.inFeatures] : [a.inFeatures, a.outFeatures];
  const out = tiledMatMul(args.backend, {
    a: { dataId: input.dataId, shape: [1, m, k], dtype: input.dtype },
    b: { words: inputs.words, scales: inputs.scales },
    ...(addend ? { addend: { dataId: addend.dataId, shape: [1, m, n], dtype: addend.dtype } } : {}),
    m,
    n,
    k,
    batchA: 1,
    batchB: 1,
    transposeA: false,
    // W is [out, in]: the forward's B = Wᵀ reads it transposed, dX's B = W as stored.
    transposeB: forward,
    alpha: 1,
    packed: { format: a.format, weightAt: WEIGHT_AT[a.format], blockSize: a.blockSize },
    ...(args.attrs?.tile === undefined ? {} : { tile: args.attrs.tile as number }),
  });
  return { dataId: out.dataId, shape: [...input.shape.slice(0, -1), n], dtype: out.dtype };
}

/** UNPACK_ROWS on webgpu: one thread per element of the gathered rows (not tf.gather: tfjs-webgpu's loses int32 bits). */
export function webgpuUnpackRows(args: KernelArgs): tf.TensorInfo {
  const a = packedAttrs(args.attrs);
  const inputs = args.inputs as Record<string, tf.TensorInfo>;
  const rows = inputs.ids.shape[0];
  const program = elementwiseProgram({
    key: `unpack_rows_${a.format}`,
    outputSize: rows * a.inFeatures,
    inputs: ["words", "scales", "ids"],
    uniforms: [
      { name: "pblock", type: "i32", value: a.blockSize },
      { name: "pin", type: "i32", value: a.inFeatures },
    ],
    prelude: WEIGHT_AT[a.format],
    body: "setOutputAtIndex(index, weightAt(ids[index / uniforms.pin] * uniforms.pin + index % uniforms.pin));",
  });
  return runProgram(args.backend, program, [inputs.words, inputs.scales, inputs.ids], [rows, a.inFeatures]);
}
