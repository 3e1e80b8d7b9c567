import type * as tf from "@tensorflow/tfjs-core";
import { WGSL_DIRECTIVES_MARK, type WebgpuDeviceFeatures } from "../backend/webgpu-device.js";
import { NF4_CODE } from "../quantize/nf4.js";
import type { PackedMatMulAttrs } from "./packed-matmul.attrs.js";
import { ROW_THREADS, SUBGROUP_SETUP_WGSL, flatProgram, runProgram } from "./webgpu-program.js";

/** Rows of x (decode steps: one token, or a few) the subgroup mat-vec takes; more go to the tiled kernel. */
export const MATVEC_MAX_ROWS = 4;

/** Packed values in one 32-bit word, by PACKED_FORMAT_CODES number; rows start on a word (packedRowMultiple). */
const VALUES_PER_WORD: Record<number, number> = { 1: 2, 2: 4, 3: 8 };

/** x's values at column k for the (up to) 4 rows, one a lane of a vec4 (rowStart repeats the last row past pm). */
const X_AT = "vec4<f32>(a[rowStart.x + k], a[rowStart.y + k], a[rowStart.z + k], a[rowStart.w + k])";

/** Σ over the word at flat weight index f (its first value; column k0) of value · x[rows][k], by format. */
const WORD_DOT: Record<number, string> = {
  1: `
fn wordDot(f : i32, k0 : i32) -> vec4<f32> {
  // Never taken (pblock is 0): a shader that reads no scales loses their binding, and tfjs always binds them.
  if (uniforms.pblock < 0) { return vec4<f32>(scales[0]); }
  let word = bitcast<u32>(words[f >> 1u]);
  var k = k0;
  var acc = ${X_AT} * bitcast<f32>(word << 16u);
  k = k0 + 1;
  acc = acc + ${X_AT} * bitcast<f32>(word & 0xffff0000u);
  return acc;
}`,
  2: `
fn wordDot(f : i32, k0 : i32) -> vec4<f32> {
  let word = bitcast<u32>(words[f >> 2u]);
  var acc = vec4<f32>(0.0);
  for (var j = 0; j < 4; j = j + 1) {
    let k = k0 + j;
    acc = acc + ${X_AT} * f32(bitcast<i32>(word << (24u - 8u * u32(j))) >> 24u);
  }
  return acc * scales[f >> 5u];
}`,
  3: `
var<private> NF4 : array<f32, 16> = array<f32, 16>(${Array.from(NF4_CODE, (c) => `${c}`).join(", ")});
fn wordDot(f : i32, k0 : i32) -> vec4<f32> {
  let word = bitcast<u32>(words[f >> 3u]);
  var acc = vec4<f32>(0.0);
  for (var j = 0; j < 4; j = j + 1) {
    let byte = (word >> (8u * u32(j))) & 0xffu;
    var k = k0 + 2 * j;
    acc = acc + ${X_AT} * NF4[byte >> 4u];
    k = k + 1;
    acc = acc + ${X_AT} * NF4[byte & 15u];
  }
  return acc * scales[f / uniforms.pblock];
}`,
};

/**
 * Outputs a workgroup computes: one a subgroup at the smallest subgroup size the adapter reports (4, WebGPU's
 * smallest, when it reports none); at larger sizes a subgroup takes several in turn.
 */
function outputsPerWorkgroup(features: WebgpuDeviceFeatures): number {
  return ROW_THREADS / (features.subgroupMinSize ?? 4);
}

/**
 * y [pm, pn] = x [pm, pk] · Wᵀ for pm ≤ MATVEC_MAX_ROWS (a decode step) with subgroups: each subgroup takes one
 * output at a time, its lanes read neighbouring words of W's row (a word a lane, so the reads coalesce) and add
 * their partial dot products with one subgroupAdd, with no workgroup memory and no barrier in the loop. Which
 * invocations form a subgroup is the implementation's choice: a subgroup's index comes from a workgroup atomic,
 * and the outputs are shared out by it, so no mapping is assumed (the sums' order depends only on the subgroup
 * width). The diagnostic is off because the analysis cannot see that the output loop's bounds are the same across
 * a subgroup (its index and the subgroup count are), which subgroupAdd needs.
 */
function code(format: number, outputs: number, addend: boolean): string {
  const perWord = VALUES_PER_WORD[format];
  return `
${WGSL_DIRECTIVES_MARK} diagnostic(off, subgroup_uniformity);
${SUBGROUP_SETUP_WGSL}
var<workgroup> subgroupCount : atomic<u32>;
var<private> rowStart : vec4<i32>;
${WORD_DOT[format]}
fn main(index : i32) {
  subgroupSetup();
  var slot = 0u;
  if (sgLane == 0u) { slot = atomicAdd(&subgroupCount, 1u); }
  let subgroup = subgroupMax(slot);
  workgroupBarrier();
  let subgroups = atomicLoad(&subgroupCount);
  let last = uniforms.pm - 1;
  rowStart = vec4<i32>(0, min(1, last), min(2, last), min(3, last)) * uniforms.pk;
  let first = (index / ${ROW_THREADS}) * ${outputs};
  let wordsPerRow = uniforms.pk / ${perWord};
  for (var o = subgroup; o < ${outputs}u; o = o + subgroups) {
    let n = first + i32(o);
    let wrow = min(n, uniforms.pn - 1) * uniforms.pk;
    var acc = vec4<f32>(0.0);
    for (var w = i32(sgLane); w < wordsPerRow; w = w + i32(sgWidth)) {
      acc = acc + wordDot(wrow + w * ${perWord}, w * ${perWord});
    }
    let total = subgroupAdd(acc);
    if (sgLane == 0u && n < uniforms.pn) {
      for (var r = 0; r <= last; r = r + 1) {
        let at = r * uniforms.pn + n;
        setOutputAtIndex(at, total[r]${addend ? " + addend[at]" : ""});
      }
    }
  }
}
`;
}

/** PACKED_MATMUL's forward for 1–MATVEC_MAX_ROWS rows on a device with subgroups: one dispatch. */
export function webgpuPackedMatVec(
  backend: unknown,
  x: tf.TensorInfo,
  weight: { words: tf.TensorInfo; scales: tf.TensorInfo },
  attrs: PackedMatMulAttrs,
  features: WebgpuDeviceFeatures,
  addend?: tf.TensorInfo,
): tf.TensorInfo {
  const m = x.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const n = attrs.outFeatures;
  const outputs = outputsPerWorkgroup(features);
  const program = flatProgram(
    {
      key: `packed_matvec_${attrs.format}_${outputs}${addend ? "_addend" : ""}`,
      outputSize: m * n,
      inputs: addend ? ["a", "words", "scales", "addend"] : ["a", "words", "scales"],
      uniforms: [
        { name: "pm", type: "i32", value: m },
        { name: "pn", type: "i32", value: n },
        { name: "pk", type: "i32", value: attrs.inFeatures },
        { name: "pblock", type: "i32", value: attrs.blockSize },
      ],
      body: "",
    },
    ROW_THREADS,
    Math.ceil(n / outputs),
    code(attrs.format, outputs, addend !== undefined),
  );
  const inputs = [x, weight.words, weight.scales, ...(addend ? [addend] : [])];
  return runProgram(backend, program, inputs, [...x.shape.slice(0, -1), n]);
}
