import type * as tf from "@tensorflow/tfjs-core";
import { NF4_CODE } from "../quantize/nf4.js";
import type { KernelArgs } from "./kernel-types.js";
import { webgpuDeviceFeatures } from "../backend/webgpu-device.js";
import { packedAttrs } from "./packed-matmul.attrs.js";
import { MATVEC_MAX_ROWS, webgpuPackedMatVec } from "./packed-matvec.webgpu.js";
import { elementwiseProgram, rowProgram, runProgram } from "./webgpu-program.js";

/** Output tile edge: a workgroup of 16 × 16 = ROW_THREADS threads computes a 16 × 16 tile, one element a thread. */
const TILE = 16;

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
 * Tiled C [pm, pn] = A [pm, pk] · B with B unpacked from W as it is staged in workgroup memory: forward B = Wᵀ (a
 * thread loads W along its row, so neighbours read neighbouring words), dX B = W.
 */
function body(forward: boolean): string {
  const loadB = forward
    ? `
    let wr = tc * ${TILE} + ly;
    let wk = k0 + lx;
    var bv = 0.0;
    if (wr < uniforms.pn && wk < uniforms.pk) { bv = weightAt(wr * uniforms.pcols + wk); }
    bTile[lx * ${TILE} + ly] = bv;`
    : `
    let wk = k0 + ly;
    var bv = 0.0;
    if (c < uniforms.pn && wk < uniforms.pk) { bv = weightAt(wk * uniforms.pcols + c); }
    bTile[ly * ${TILE} + lx] = bv;`;
  return `
  let tilesN = (uniforms.pn + ${TILE - 1}) / ${TILE};
  let tr = row / tilesN;
  let tc = row % tilesN;
  let ly = tid / ${TILE};
  let lx = tid % ${TILE};
  let r = tr * ${TILE} + ly;
  let c = tc * ${TILE} + lx;
  var acc = 0.0;
  for (var k0 = 0; k0 < uniforms.pk; k0 = k0 + ${TILE}) {
    let ak = k0 + lx;
    var av = 0.0;
    if (r < uniforms.pm && ak < uniforms.pk) { av = a[r * uniforms.pk + ak]; }
    aTile[tid] = av;${loadB}
    workgroupBarrier();
    for (var kk = 0; kk < ${TILE}; kk = kk + 1) { acc = acc + aTile[ly * ${TILE} + kk] * bTile[kk * ${TILE} + lx]; }
    workgroupBarrier();
  }
  if (r < uniforms.pm && c < uniforms.pn) { setOutputAtIndex(r * uniforms.pn + c, acc); }
`;
}

/**
 * PACKED_MATMUL (forward) or PACKED_MATMUL_GRAD_X on webgpu: one dispatch. A decode step's forward (≤ 4 rows) on a
 * device with subgroups is a subgroup mat-vec (packed-matvec.webgpu.ts); everything else the tiled kernel here.
 */
export function webgpuPackedMatMul(args: KernelArgs, forward: boolean): tf.TensorInfo {
  const a = packedAttrs(args.attrs);
  const inputs = args.inputs as Record<string, tf.TensorInfo>;
  const input = forward ? inputs.x : inputs.dy;
  const m = input.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const features = webgpuDeviceFeatures(args.backend);
  if (forward && m <= MATVEC_MAX_ROWS && features.subgroups)
    return webgpuPackedMatVec(args.backend, input, { words: inputs.words, scales: inputs.scales }, a, features);
  const [n, k] = forward ? [a.outFeatures, a.inFeatures] : [a.inFeatures, a.outFeatures];
  const tiles = Math.ceil(m / TILE) * Math.ceil(n / TILE);
  const program = rowProgram({
    key: `packed_matmul_${a.format}_${forward ? "fwd" : "dx"}`,
    rows: tiles,
    outputSize: m * n,
    inputs: ["a", "words", "scales"],
    uniforms: [
      { name: "pm", type: "i32", value: m },
      { name: "pn", type: "i32", value: n },
      { name: "pk", type: "i32", value: k },
      { name: "pcols", type: "i32", value: a.inFeatures },
      { name: "pblock", type: "i32", value: a.blockSize },
    ],
    prelude: `
var<workgroup> aTile : array<f32, ${TILE * TILE}>;
var<workgroup> bTile : array<f32, ${TILE * TILE}>;
${WEIGHT_AT[a.format]}`,
    body: body(forward),
  });
  return runProgram(args.backend, program, [input, inputs.words, inputs.scales], [...input.shape.slice(0, -1), n]);
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
