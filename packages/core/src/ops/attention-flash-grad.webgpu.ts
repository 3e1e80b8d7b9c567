import type * as tf from "@tensorflow/tfjs-core";
import { attentionDimsOf, type AttentionDims } from "./attention.host.js";
import type { FlashTile } from "./attention-flash.webgpu.js";
import { attentionUniforms, rowOffsets, webgpuAttentionStats } from "./attention.webgpu.js";
import type { HeadLayout } from "./head-layout.js";
import type { KernelArgs } from "./kernel-types.js";
import { disposeIntermediate, flatProgram, runProgram, type UniformValue } from "./webgpu-program.js";

type Inputs = Record<"q" | "k" | "v" | "o" | "dy", tf.TensorInfo> & { mask?: tf.TensorInfo };

/** Workgroup memory of the backward kernels at head size d: Q and dO rows, K and V rows, the tile's weights, stats. */
export function flashGradStorageBytes(t: FlashTile, d: number): number {
  return ((2 * t.br + 2 * t.bc) * d + t.br * t.bc + 3 * t.br) * 4;
}

function uniforms(dims: AttentionDims, tiles: number): UniformValue[] {
  return attentionUniforms(dims, "tiles", tiles);
}

function prelude(d: number, t: FlashTile, masked: boolean, layout: HeadLayout): string {
  return `
const D = ${d};
const BR = ${t.br};
const BC = ${t.bc};
const T = ${t.br * t.bc};
var<workgroup> qTile : array<f32, ${t.br * d}>;
var<workgroup> doTile : array<f32, ${t.br * d}>;
var<workgroup> kTile : array<f32, ${t.bc * d}>;
var<workgroup> vTile : array<f32, ${t.bc * d}>;
var<workgroup> wTile : array<f32, ${t.br * t.bc}>;
var<workgroup> statTile : array<f32, ${3 * t.br}>;
${rowOffsets(layout)}
fn maskAt(b : i32, i : i32, j : i32) -> f32 {
  ${masked ? "return mask[(select(b, 0, uniforms.maskBatch == 1) * uniforms.sq + i) * uniforms.sk + j];" : "return 0.0;"}
}

// P (and, for dS, dP = dO · v) of query row r of qTile / doTile against key row j of kTile / vTile, at query
// position i of batch b and key index key; statTile holds the row's max, 1 / sum and dO · O.
fn probability(r : i32, j : i32, b : i32, i : i32, key : i32) -> f32 {
  var dot = 0.0;
  for (var c = 0; c < D; c = c + 1) { dot = dot + qTile[r * D + c] * kTile[j * D + c]; }
  return exp(dot * uniforms.scale + maskAt(b, i, key) - statTile[r * 3]) * statTile[r * 3 + 1];
}

fn scoreGrad(r : i32, j : i32, p : f32) -> f32 {
  var dp = 0.0;
  for (var c = 0; c < D; c = c + 1) { dp = dp + doTile[r * D + c] * vTile[j * D + c]; }
  return p * (dp - statTile[r * 3 + 2]) * uniforms.scale;
}

// Rows [row0, row0 + BR) of q and dO (global query rows, zero past rowEnd) and their stats into workgroup memory.
fn loadQueryRows(tid : i32, row0 : i32, rowEnd : i32) {
  for (var e = tid; e < BR * D; e = e + T) {
    let row = row0 + e / D;
    let inside = row < rowEnd;
    let at = queryRowAt(select(0, row, inside)) + e % D;
    qTile[e] = select(0.0, q[at], inside);
    doTile[e] = select(0.0, dy[at], inside);
  }
  for (var e = tid; e < 3 * BR; e = e + T) {
    let row = row0 + e / 3;
    statTile[e] = select(0.0, stats[select(0, row * 3 + e % 3, row < rowEnd)], row < rowEnd);
  }
}

// Keys [key0, key0 + BC) of the (batch, kv head) whose key rows start at kRow0, zero past sk.
fn loadKeyRows(tid : i32, kRow0 : i32, key0 : i32) {
  for (var e = tid; e < BC * D; e = e + T) {
    let key = key0 + e / D;
    let inside = key < uniforms.sk;
    let at = keyRowAt(kRow0 + select(0, key, inside)) + e % D;
    kTile[e] = select(0.0, k[at], inside);
    vTile[e] = select(0.0, v[at], inside);
  }
}
`;
}

/**
 * dq: a workgroup per BR query rows of one (batch, head), walking the keys BC at a time: thread (r, j) computes
 * dS for its query and key, then each thread of row r adds dS · k into its D / BC columns.
 */
function gradQueryShader(d: number, t: FlashTile, masked: boolean, layout: HeadLayout): string {
  const cpt = Math.ceil(d / t.bc);
  return `${prelude(d, t, masked, layout)}
fn main(index : i32) {
  let tid = i32(localIndex);
  let valid = index / T < uniforms.tiles;
  let tile = select(0, index / T, valid);
  let tilesPerHead = (uniforms.sq + BR - 1) / BR;
  let bh = tile / tilesPerHead;
  let q0 = (tile % tilesPerHead) * BR;
  let b = bh / uniforms.heads;
  let kvh = (bh % uniforms.heads) / (uniforms.heads / uniforms.kvHeads);
  let kRow0 = (b * uniforms.kvHeads + kvh) * uniforms.sk;
  let r = tid / BC;
  let lane = tid % BC;
  let query = q0 + r;
  loadQueryRows(tid, bh * uniforms.sq + q0, bh * uniforms.sq + uniforms.sq);
  var acc : array<f32, ${cpt}>;
  for (var k0 = 0; k0 < uniforms.sk; k0 = k0 + BC) {
    loadKeyRows(tid, kRow0, k0);
    workgroupBarrier();
    let key = k0 + lane;
    var w = 0.0;
    if (key < uniforms.sk && query < uniforms.sq) { w = scoreGrad(r, lane, probability(r, lane, b, query, key)); }
    wTile[r * BC + lane] = w;
    workgroupBarrier();
    for (var j = 0; j < BC; j = j + 1) {
      let ds = wTile[r * BC + j];
      for (var cc = 0; cc < ${cpt}; cc = cc + 1) {
        let c = lane + cc * BC;
        if (c < D) { acc[cc] = acc[cc] + ds * kTile[j * D + c]; }
      }
    }
    workgroupBarrier();
  }
  if (valid && query < uniforms.sq) {
    let out = queryRowAt(bh * uniforms.sq + query);
    for (var cc = 0; cc < ${cpt}; cc = cc + 1) {
      let c = lane + cc * BC;
      if (c < D) { setOutputAtIndex(out + c, acc[cc]); }
    }
  }
}
`;
}

/**
 * dk (or dv): a workgroup per BC key rows of one (batch, kv head), walking its group's query rows (every query head
 * that reads this kv head, GQA) BR at a time: thread (r, j) computes dS (or P) for its query and key, then thread
 * (j', c) adds the tile's weights times q (or dO) into key row j', columns c.
 */
function gradKeyShader(d: number, t: FlashTile, masked: boolean, layout: HeadLayout, which: "dk" | "dv"): string {
  const cpt = Math.ceil(d / t.br);
  const weight =
    which === "dk" ? "scoreGrad(r, lane, probability(r, lane, b, i, key))" : "probability(r, lane, b, i, key)";
  const source = which === "dk" ? "qTile" : "doTile";
  return `${prelude(d, t, masked, layout)}
fn main(index : i32) {
  let tid = i32(localIndex);
  let valid = index / T < uniforms.tiles;
  let tile = select(0, index / T, valid);
  let tilesPerPair = (uniforms.sk + BC - 1) / BC;
  let pair = tile / tilesPerPair;
  let key0 = (tile % tilesPerPair) * BC;
  let b = pair / uniforms.kvHeads;
  let kRow0 = pair * uniforms.sk;
  let groupRows = (uniforms.heads / uniforms.kvHeads) * uniforms.sq;
  let q0 = pair * groupRows;
  let r = tid / BC;
  let lane = tid % BC;
  let key = key0 + lane;
  let ownKey = tid / BR;
  let ownLane = tid % BR;
  loadKeyRows(tid, kRow0, key0);
  var acc : array<f32, ${cpt}>;
  for (var t0 = 0; t0 < groupRows; t0 = t0 + BR) {
    workgroupBarrier();  // the previous tile's rows are read
    loadQueryRows(tid, q0 + t0, q0 + groupRows);
    workgroupBarrier();
    let i = (t0 + r) % uniforms.sq;
    var w = 0.0;
    if (t0 + r < groupRows && key < uniforms.sk) { w = ${weight}; }
    wTile[r * BC + lane] = w;
    workgroupBarrier();
    for (var rr = 0; rr < BR; rr = rr + 1) {
      let weightOf = wTile[rr * BC + ownKey];
      for (var cc = 0; cc < ${cpt}; cc = cc + 1) {
        let c = ownLane + cc * BR;
        if (c < D) { acc[cc] = acc[cc] + weightOf * ${source}[rr * D + c]; }
      }
    }
  }
  if (valid && key0 + ownKey < uniforms.sk) {
    let out = keyRowAt(kRow0 + key0 + ownKey);
    for (var cc = 0; cc < ${cpt}; cc = cc + 1) {
      let c = ownLane + cc * BR;
      if (c < D) { setOutputAtIndex(out + c, acc[cc]); }
    }
  }
}
`;
}

function withShape(info: tf.TensorInfo, shape: readonly number[]): tf.TensorInfo {
  return { ...info, shape: [...shape] };
}

/**
 * Four dispatches, as the row kernels: the per-row softmax statistics and dO · O, then dq, dk and dv from tiles of
 * queries and keys in workgroup memory (no [seq, seq] tensor; each K/V or Q/dO row read once per tile).
 */
export function webgpuFlashAttentionGrad(args: KernelArgs, tile: FlashTile): tf.TensorInfo[] {
  const inputs = args.inputs as Inputs;
  const { q, k, mask } = inputs;
  const dims = attentionDimsOf(args);
  const masked = mask !== undefined;
  const names = ["q", "k", "v", "dy", "stats", ...(masked ? ["mask"] : [])];
  const stats = webgpuAttentionStats(args);
  const all: Record<string, tf.TensorInfo> = { ...(inputs as Record<string, tf.TensorInfo>), stats };
  const run = (kind: "dq" | "dk" | "dv", tiles: number, size: number, code: string) =>
    runProgram(
      args.backend,
      flatProgram(
        {
          key: `attention_flash_${kind}_${dims.d}_${tile.br}x${tile.bc}_${masked ? "masked" : "plain"}_${dims.layout}`,
          outputSize: size,
          inputs: names,
          uniforms: uniforms(dims, tiles),
          body: "",
        },
        tile.br * tile.bc,
        tiles,
        code,
      ),
      names.map((n) => all[n]),
      [size],
    );
  const qSize = q.shape.reduce((a, b) => a * b, 1);
  const kSize = k.shape.reduce((a, b) => a * b, 1);
  const queryTiles = dims.batch * dims.heads * Math.ceil(dims.sq / tile.br);
  const keyTiles = dims.batch * dims.kvHeads * Math.ceil(dims.sk / tile.bc);
  const dq = run("dq", queryTiles, qSize, gradQueryShader(dims.d, tile, masked, dims.layout));
  const dk = run("dk", keyTiles, kSize, gradKeyShader(dims.d, tile, masked, dims.layout, "dk"));
  const dv = run("dv", keyTiles, kSize, gradKeyShader(dims.d, tile, masked, dims.layout, "dv"));
  disposeIntermediate(args.backend, stats);
  return [withShape(dq, q.shape), withShape(dk, k.shape), withShape(dv, k.shape)];
}
