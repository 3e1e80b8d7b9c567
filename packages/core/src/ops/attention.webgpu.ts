import type * as tf from "@tensorflow/tfjs-core";
import { attentionDimsOf, type AttentionDims } from "./attention.host.js";
import type { HeadLayout } from "./head-layout.js";
import type { KernelArgs } from "./kernel-types.js";
import { ROW_THREADS, disposeIntermediate, rowProgram, runProgram, type UniformValue } from "./webgpu-program.js";

type Inputs = Record<"q" | "k" | "v" | "o" | "dy", tf.TensorInfo> & { mask?: tf.TensorInfo };

/** The attention shape as uniforms, after the count of rows or tiles the dispatch covers (`count` names it). */
export function attentionUniforms(dims: AttentionDims, count: "rows" | "tiles", value: number): UniformValue[] {
  return [
    { name: count, type: "i32", value },
    { name: "heads", type: "i32", value: dims.heads },
    { name: "kvHeads", type: "i32", value: dims.kvHeads },
    { name: "sq", type: "i32", value: dims.sq },
    { name: "sk", type: "i32", value: dims.sk },
    { name: "maskBatch", type: "i32", value: dims.maskBatch },
    { name: "scale", type: "f32", value: dims.scale },
  ];
}

/**
 * WGSL: where query row `row` of q, o, dy or dq starts (rows counted in bhsd order, ((b·heads + h)·sq + i); the
 * statistics rows keep that order), and key row ((b·kvHeads + kvh)·sk + j) of k, v, dk or dv, in the tensors'
 * layout: bhsd rows are contiguous, bshd rows step over the heads.
 */
export function rowOffsets(layout: HeadLayout): string {
  const offset = (heads: string, seq: string) =>
    layout === "bhsd"
      ? "return row * D;"
      : `let bh = row / uniforms.${seq};
  return ((bh / uniforms.${heads} * uniforms.${seq} + row % uniforms.${seq}) * uniforms.${heads} + bh % uniforms.${heads}) * D;`;
  return `
fn queryRowAt(row : i32) -> i32 {
  ${offset("heads", "sq")}
}
fn keyRowAt(row : i32) -> i32 {
  ${offset("kvHeads", "sk")}
}
`;
}

function uniforms(dims: AttentionDims, rows: number): UniformValue[] {
  return attentionUniforms(dims, "rows", rows);
}

/**
 * Workgroup memory and helpers, specialised to the head size D (it sizes the arrays; each thread owns CPT of the D
 * output columns). rowA and rowB cache the vectors a workgroup's row reuses for every key (or query).
 */
function prelude(d: number, masked: boolean, layout: HeadLayout): string {
  return `
const D = ${d};
${rowOffsets(layout)}
const CPT = ${Math.ceil(d / ROW_THREADS)};
var<workgroup> tile : array<f32, ${ROW_THREADS}>;
var<workgroup> rowA : array<f32, D>;
var<workgroup> rowB : array<f32, D>;

// The additive mask for query i of batch b at key j (0 without a mask).
fn maskAt(b : i32, i : i32, j : i32) -> f32 {
  ${masked ? "return mask[(select(b, 0, uniforms.maskBatch == 1) * uniforms.sq + i) * uniforms.sk + j];" : "return 0.0;"}
}

// The score of the query row cached in rowA against key j (its row's first float at keyRow).
fn cachedQueryScore(keyRow : i32, b : i32, i : i32, j : i32) -> f32 {
  var dot = 0.0;
  for (var c = 0; c < D; c = c + 1) { dot = dot + rowA[c] * k[keyRow + c]; }
  return dot * uniforms.scale + maskAt(b, i, j);
}
`;
}

/**
 * A query row (b, h, i) (its floats from rowAt) and the K/V rows it reads (key rows from kRow0); `r` is clamped so
 * padded workgroups read in bounds. Caches q in rowA.
 */
const QUERY_ROW = `
  let valid = row < uniforms.rows;
  let r = select(0, row, valid);
  let i = r % uniforms.sq;
  let bh = r / uniforms.sq;
  let b = bh / uniforms.heads;
  let kvh = (bh % uniforms.heads) / (uniforms.heads / uniforms.kvHeads);
  let kRow0 = (b * uniforms.kvHeads + kvh) * uniforms.sk;
  let rowAt = queryRowAt(r);
  for (var c = tid; c < D; c = c + ${ROW_THREADS}) { rowA[c] = q[rowAt + c]; }
  workgroupBarrier();
`;

/** A key row j of (b, kv head) and its group's query rows q0 .. q0 + groupRows; caches k in rowA and v in rowB. */
const KEY_ROW = `
  let valid = row < uniforms.rows;
  let r = select(0, row, valid);
  let j = r % uniforms.sk;
  let pair = r / uniforms.sk;
  let b = pair / uniforms.kvHeads;
  let groupRows = (uniforms.heads / uniforms.kvHeads) * uniforms.sq;
  let q0 = pair * groupRows;
  let rowAt = keyRowAt(r);
  for (var c = tid; c < D; c = c + ${ROW_THREADS}) { rowA[c] = k[rowAt + c]; rowB[c] = v[rowAt + c]; }
  workgroupBarrier();
`;

/**
 * Each thread keeps an online (max, sum) over its keys; the workgroup merges them. The max starts at exactly
 * -FLT_MAX (HF's mask value), so a row of masked keys counts them (uniform weights, as torch), and a row of all
 * -Infinity ends with rowSum 0.
 */
const ROW_STATS = `
  var m = bitcast<f32>(0xff7fffffu);
  var s = 0.0;
  for (var j = tid; j < uniforms.sk; j = j + ${ROW_THREADS}) {
    let x = cachedQueryScore(keyRowAt(kRow0 + j), b, i, j);
    if (x > m) { s = s * exp(m - x) + 1.0; m = x; } else { s = s + exp(x - m); }
  }
  let rowMax = workgroupMax(m);
  let rowSum = workgroupSum(s * exp(m - rowMax));
  let inv = select(1.0 / rowSum, 0.0, rowSum == 0.0);
`;

/**
 * Σ over `count` rows of weight(row) · source[row][column] into acc, in tiles of ROW_THREADS: each thread computes one
 * weight (`weight` sets w for row t), the tile goes to workgroup memory, then each thread sums its own columns.
 */
function tiledSum(count: string, weight: string, source: (rowIndex: string) => string): string {
  return `
  var acc : array<f32, CPT>;
  for (var t0 = 0; t0 < ${count}; t0 = t0 + ${ROW_THREADS}) {
    let t = t0 + tid;
    var w = 0.0;
    if (t < ${count}) { ${weight} }
    tile[tid] = w;
    workgroupBarrier();
    let n = min(${ROW_THREADS}, ${count} - t0);
    for (var cc = 0; cc < CPT; cc = cc + 1) {
      let c = tid + cc * ${ROW_THREADS};
      if (c < D) {
        var a = acc[cc];
        for (var u = 0; u < n; u = u + 1) { a = a + tile[u] * ${source("(t0 + u)")}; }
        acc[cc] = a;
      }
    }
    workgroupBarrier();
  }
`;
}

/** Writes acc as the output's row `r` (D floats from rowAt). */
const WRITE_ACC = `
  if (valid) {
    for (var cc = 0; cc < CPT; cc = cc + 1) {
      let c = tid + cc * ${ROW_THREADS};
      if (c < D) { setOutputAtIndex(rowAt + c, acc[cc]); }
    }
  }
`;

/** softmax(q·kᵀ · scale + mask) · v per query row; a row of all -Infinity gets zero weights (inv = 0, no 0 · ∞). */
const FORWARD_BODY = `${QUERY_ROW}${ROW_STATS}
  ${tiledSum("uniforms.sk", "w = exp(cachedQueryScore(keyRowAt(kRow0 + t), b, i, t) - rowMax) * inv;", (u) => `v[keyRowAt(kRow0 + ${u}) + c]`)}
${WRITE_ACC}`;

/**
 * Per query row: the softmax's max and 1 / sum, as the forward had them (not logsumexp: at HF's float-min mask,
 * max + log(sum) rounds back to max), and D = dO · O. Three floats a row.
 */
const STATS_BODY = `${QUERY_ROW}${ROW_STATS}
  var dd = 0.0;
  for (var c = tid; c < D; c = c + ${ROW_THREADS}) { dd = dd + dy[rowAt + c] * o[rowAt + c]; }
  let rowDot = workgroupSum(dd);
  if (tid == 0 && valid) {
    setOutputAtIndex(r * 3, rowMax);
    setOutputAtIndex(r * 3 + 1, inv);
    setOutputAtIndex(r * 3 + 2, rowDot);
  }
`;

/** dq[row] = Σ_j dS_j · k_j with dS = P ∘ (dO·v_j − D) · scale; dO cached in rowB. */
const GRAD_Q_BODY = `${QUERY_ROW}
  for (var c = tid; c < D; c = c + ${ROW_THREADS}) { rowB[c] = dy[rowAt + c]; }
  workgroupBarrier();
  let rowMax = stats[r * 3];
  let inv = stats[r * 3 + 1];
  let rowDot = stats[r * 3 + 2];
  ${tiledSum(
    "uniforms.sk",
    `let kt = keyRowAt(kRow0 + t);
     let p = exp(cachedQueryScore(kt, b, i, t) - rowMax) * inv;
     var dp = 0.0;
     for (var c = 0; c < D; c = c + 1) { dp = dp + rowB[c] * v[kt + c]; }
     w = p * (dp - rowDot) * uniforms.scale;`,
    (u) => `k[keyRowAt(kRow0 + ${u}) + c]`,
  )}
${WRITE_ACC}`;

/** P of the group's query row t against this key row (k cached in rowA). */
const GROUP_PROB = `
     let qr = q0 + t;
     let qAt = queryRowAt(qr);
     var dot = 0.0;
     for (var c = 0; c < D; c = c + 1) { dot = dot + q[qAt + c] * rowA[c]; }
     let p = exp(dot * uniforms.scale + maskAt(b, t % uniforms.sq, j) - stats[qr * 3]) * stats[qr * 3 + 1];`;

/** dk[row] = Σ over the group's query rows of dS · q (GQA: every query head of the group adds in). */
const GRAD_K_BODY = `${KEY_ROW}
  ${tiledSum(
    "groupRows",
    `${GROUP_PROB}
     var dp = 0.0;
     for (var c = 0; c < D; c = c + 1) { dp = dp + dy[qAt + c] * rowB[c]; }
     w = p * (dp - stats[qr * 3 + 2]) * uniforms.scale;`,
    (u) => `q[queryRowAt(q0 + ${u}) + c]`,
  )}
${WRITE_ACC}`;

/** dv[row] = Σ over the group's query rows of P · dO. */
const GRAD_V_BODY = `${KEY_ROW}
  ${tiledSum("groupRows", `${GROUP_PROB}\n     w = p;`, (u) => `dy[queryRowAt(q0 + ${u}) + c]`)}
${WRITE_ACC}`;

/** Runs one body as a row program: one workgroup per row, `perRow` floats written per row. */
function run(
  args: KernelArgs,
  name: string,
  body: string,
  inputs: string[],
  rows: number,
  perRow: number,
  extra: Record<string, tf.TensorInfo> = {},
): tf.TensorInfo {
  const all = { ...(args.inputs as Inputs), ...extra } as Record<string, tf.TensorInfo>;
  const masked = all.mask !== undefined;
  const names = masked ? [...inputs, "mask"] : inputs;
  const dims = attentionDimsOf(args);
  const program = rowProgram({
    key: `attention_${name}_${dims.d}_${masked ? "masked" : "plain"}_${dims.layout}`,
    rows,
    outputSize: rows * perRow,
    inputs: names,
    uniforms: uniforms(dims, rows),
    prelude: prelude(dims.d, masked, dims.layout),
    body,
  });
  return runProgram(
    args.backend,
    program,
    names.map((n) => all[n]),
    [rows * perRow],
  );
}

function withShape(info: tf.TensorInfo, shape: readonly number[]): tf.TensorInfo {
  return { ...info, shape: [...shape] };
}

/** One dispatch: a workgroup per query row computes its softmax statistics, then the weighted sum of v. */
export function webgpuAttention(args: KernelArgs): tf.TensorInfo {
  const { q } = args.inputs as Inputs;
  const rows = q.shape[0] * q.shape[1] * q.shape[2];
  return withShape(run(args, "fwd", FORWARD_BODY, ["q", "k", "v"], rows, q.shape[3]), q.shape);
}

/** Per query row: the softmax's max and 1 / sum, and dO · O (three floats a row; one dispatch). Free it after use. */
export function webgpuAttentionStats(args: KernelArgs): tf.TensorInfo {
  const { q } = args.inputs as Inputs;
  return run(args, "stats", STATS_BODY, ["q", "k", "o", "dy"], q.shape[0] * q.shape[1] * q.shape[2], 3);
}

/** Four dispatches: per-row softmax statistics and dO·O, then dq (per query row), dk and dv (per key row). */
export function webgpuAttentionGrad(args: KernelArgs): tf.TensorInfo[] {
  const { q, k } = args.inputs as Inputs;
  const queryRows = q.shape[0] * q.shape[1] * q.shape[2];
  const keyRows = k.shape[0] * k.shape[1] * k.shape[2];
  const stats = webgpuAttentionStats(args);
  const extra = { stats };
  const dq = run(args, "dq", GRAD_Q_BODY, ["q", "k", "v", "dy", "stats"], queryRows, q.shape[3], extra);
  const dk = run(args, "dk", GRAD_K_BODY, ["q", "k", "v", "dy", "stats"], keyRows, k.shape[3], extra);
  const dv = run(args, "dv", GRAD_V_BODY, ["q", "k", "v", "dy", "stats"], keyRows, k.shape[3], extra);
  disposeIntermediate(args.backend, stats);
  return [withShape(dq, q.shape), withShape(dk, k.shape), withShape(dv, k.shape)];
}
