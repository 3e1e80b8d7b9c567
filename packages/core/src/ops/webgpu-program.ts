import type * as tf from "@tensorflow/tfjs-core";
import { WGSL_DIRECTIVES_MARK, webgpuDeviceFeatures } from "../backend/webgpu-device.js";

/** Threads of a row program's workgroup (one workgroup per row); 256 is WebGPU's guaranteed minimum limit. */
export const ROW_THREADS = 256;
/** Threads of an elementwise program's workgroup. */
const ELEMENT_THREADS = 64;

/** A scalar uniform: its WGSL name and type, and its value for this run. */
export interface UniformValue {
  name: string;
  type: "i32" | "f32";
  value: number;
}

/**
 * The fields tfjs-backend-webgpu reads from a program (its WebGPUProgram), written out here because that package
 * is an optional peer that core never imports. tfjs compiles `getUserCode()` after its own header: a `result`
 * storage array (the output), one read-only storage array per variable name, and a `uniforms` struct.
 */
export interface WebgpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms?: string;
  getUserCode(): string;
  /** Values of the program's own uniforms, in declaration order (ours; tfjs ignores it). */
  uniformValues: UniformValue[];
  /** The same program built for a device with subgroups (ours: runProgram picks it when the device has them). */
  withSubgroups?: () => WebgpuProgram;
}

/** The parts of tfjs-backend-webgpu's backend object the kernels use. */
export interface WebgpuBackendLike {
  runWebGPUProgram(
    program: WebgpuProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: { type: "float32" | "int32"; data: number[] }[],
  ): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
}

export interface ProgramSpec {
  /** Names the shader in tfjs's pipeline cache: it must change whenever the generated code does. */
  key: string;
  /** Number of output elements (the program sees every tensor as a flat array). */
  outputSize: number;
  /** Storage-array names of the inputs, in the order their tensors are passed to `runProgram`. */
  inputs: string[];
  uniforms?: UniformValue[];
  /** WGSL placed before `main` (workgroup memory, helper functions). */
  prelude?: string;
  /** WGSL of `main`'s body. */
  body: string;
}

/** Workgroup memory and the two reductions over it as a tree; every thread of the workgroup gets the result. */
const WORKGROUP_REDUCE_WGSL = `
var<workgroup> partial : array<f32, ${ROW_THREADS}>;

fn workgroupSum(value : f32) -> f32 {
  partial[localIndex] = value;
  workgroupBarrier();
  for (var stride = ${ROW_THREADS / 2}u; stride > 0u; stride = stride >> 1u) {
    if (localIndex < stride) { partial[localIndex] = partial[localIndex] + partial[localIndex + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();  // before the next reduction overwrites partial
  return total;
}

fn workgroupMax(value : f32) -> f32 {
  partial[localIndex] = value;
  workgroupBarrier();
  for (var stride = ${ROW_THREADS / 2}u; stride > 0u; stride = stride >> 1u) {
    if (localIndex < stride) { partial[localIndex] = max(partial[localIndex], partial[localIndex + stride]); }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}
`;

/**
 * The WGSL a program with subgroup operations starts with: the directive (hoisted to the module's top by the
 * device hook in webgpu-device.ts), and each invocation's rank among its subgroup's active invocations and their
 * count. Ranks are computed, not read from the subgroup_invocation_id / subgroup_size builtins, because tfjs writes
 * the entry point; they also stay dense where a subgroup is only partly filled. subgroupSetup() must run first
 * thing in main, where control flow is uniform.
 */
export const SUBGROUP_SETUP_WGSL = `${WGSL_DIRECTIVES_MARK} enable subgroups;
var<private> sgLane : u32;
var<private> sgWidth : u32;
fn subgroupSetup() {
  sgLane = subgroupExclusiveAdd(1u);
  sgWidth = subgroupAdd(1u);
}
`;

/**
 * The same two reductions with subgroups: subgroupAdd / subgroupMax within each subgroup, then one pass over
 * workgroup memory and one more subgroup operation, with 2 barriers instead of the tree's 10. It assumes nothing
 * about which invocations form a subgroup, nor about its size: each invocation writes a slot of its own (the sum's
 * slot is its subgroup's sum at the subgroup's first active invocation and 0 elsewhere; a max may repeat), and every
 * subgroup then reads all ROW_THREADS slots, its lanes striding by its width (256 / 32 = 8 reads each on NVIDIA).
 */
const SUBGROUP_REDUCE_WGSL = `
${SUBGROUP_SETUP_WGSL}
var<workgroup> partial : array<f32, ${ROW_THREADS}>;

fn workgroupSum(value : f32) -> f32 {
  let own = subgroupAdd(value);
  partial[localIndex] = select(0.0, own, sgLane == 0u);
  workgroupBarrier();
  var sum = 0.0;
  for (var i = sgLane; i < ${ROW_THREADS}u; i = i + sgWidth) { sum = sum + partial[i]; }
  let total = subgroupAdd(sum);
  workgroupBarrier();  // before the next reduction overwrites partial
  return total;
}

fn workgroupMax(value : f32) -> f32 {
  partial[localIndex] = subgroupMax(value);
  workgroupBarrier();
  var most = partial[sgLane];
  for (var i = sgLane + sgWidth; i < ${ROW_THREADS}u; i = i + sgWidth) { most = max(most, partial[i]); }
  let total = subgroupMax(most);
  workgroupBarrier();
  return total;
}
`;

/** A program of `workgroups` workgroups of `threads` threads over a flat output (rowProgram's and elementwiseProgram's base). */
export function flatProgram(spec: ProgramSpec, threads: number, workgroups: number, code: string): WebgpuProgram {
  const uniforms = spec.uniforms ?? [];
  return {
    outputShape: [spec.outputSize],
    shaderKey: `llamats_${spec.key}`,
    dispatchLayout: { x: [0] },
    // tfjs folds more than 65535 workgroups into y and z; getGlobalIndex() (the `index` given to main) undoes it.
    dispatch: [Math.max(1, workgroups), 1, 1],
    variableNames: spec.inputs,
    workgroupSize: [threads, 1, 1],
    size: true,
    ...(uniforms.length ? { uniforms: uniforms.map((u) => `${u.name} : ${u.type},`).join(" ") } : {}),
    getUserCode: () => code,
    uniformValues: uniforms,
  };
}

/**
 * One workgroup of ROW_THREADS threads per row, for row reductions. The body sees `row` (may be past the last row
 * when tfjs pads the dispatch: guard loads and stores, but never return early, as barriers must stay uniform) and
 * `tid` (the thread's index in the workgroup, i32), plus workgroupSum / workgroupMax (with subgroup operations on a
 * device that has them: runProgram picks that build, whose shader key ends in `_sg`).
 */
export function rowProgram(spec: ProgramSpec & { rows: number }): WebgpuProgram {
  const build = (subgroups: boolean): WebgpuProgram => {
    const code = `
${subgroups ? SUBGROUP_REDUCE_WGSL : WORKGROUP_REDUCE_WGSL}
${spec.prelude ?? ""}
fn main(index : i32) {
  ${subgroups ? "subgroupSetup();" : ""}
  let row = index / ${ROW_THREADS};
  let tid = i32(localIndex);
  ${spec.body}
}
`;
    return flatProgram({ ...spec, key: subgroups ? `${spec.key}_sg` : spec.key }, ROW_THREADS, spec.rows, code);
  };
  return { ...build(false), withSubgroups: () => build(true) };
}

/** One thread per output element: the body runs for `index` in [0, uniforms.size). */
export function elementwiseProgram(spec: ProgramSpec): WebgpuProgram {
  const code = `
${spec.prelude ?? ""}
fn main(index : i32) {
  if (index < uniforms.size) {
    ${spec.body}
  }
}
`;
  return flatProgram(spec, ELEMENT_THREADS, Math.ceil(spec.outputSize / ELEMENT_THREADS), code);
}

function flat(info: tf.TensorInfo): tf.TensorInfo {
  return { dataId: info.dataId, shape: [info.shape.reduce((a, b) => a * b, 1)], dtype: info.dtype };
}

/** Runs a program on flat views of `inputs`; the result (float32, on the GPU) gets `shape`. */
export function runProgram(
  backend: unknown,
  program: WebgpuProgram,
  inputs: tf.TensorInfo[],
  shape: number[],
): tf.TensorInfo {
  if (program.withSubgroups && webgpuDeviceFeatures(backend).subgroups) program = program.withSubgroups();
  const uniforms = program.uniformValues.map((u) => ({
    type: u.type === "f32" ? ("float32" as const) : ("int32" as const),
    data: [u.value],
  }));
  const out = (backend as WebgpuBackendLike).runWebGPUProgram(program, inputs.map(flat), "float32", uniforms);
  return { dataId: out.dataId, shape, dtype: out.dtype };
}

/** Frees an intermediate result of a multi-program kernel (the GPU keeps it until queued work is done). */
export function disposeIntermediate(backend: unknown, info: tf.TensorInfo): void {
  (backend as WebgpuBackendLike).disposeData(info.dataId);
}
