import type * as tf from "@tensorflow/tfjs-core";
import { attentionDimsOf, type AttentionDims } from "./attention.host.js";
import { attentionUniforms, rowOffsets } from "./attention.webgpu.js";
import type { HeadLayout } from "./head-layout.js";
import type { KernelArgs } from "./kernel-types.js";
import { flatProgram, runProgram, type UniformValue } from "./webgpu-program.js";

/** A workgroup's share: BR query rows against BC keys at a time (BR × BC threads, one score each per key tile). */
export interface FlashTile {
  br: number;
  bc: number;
}

/** Largest first: 256 threads, then 64 for head sizes or devices whose workgroup memory is smaller. */
export const FLASH_TILES: readonly FlashTile[] = [
  { br: 16, bc: 16 },
  { br: 8, bc: 8 },
];

/** Workgroup memory of a tile at head size d: the Q rows, the K and V rows of one key tile, and the scores. */
export function flashStorageBytes(t: FlashTile, d: number): number {
  return ((t.br + 2 * t.bc) * d + t.br * t.bc) * 4;
}

/**
 * The largest tile whose workgroup memory (`bytes`: the forward's or the backward's) fits the device at this head
 * size; null if none does (then the row kernels run).
 */
export function chooseFlashTile(
  d: number,
  limits: { maxComputeWorkgroupStorageSize: number },
  bytes: (t: FlashTile, d: number) => number = flashStorageBytes,
): FlashTile | null {
  return FLASH_TILES.find((t) => bytes(t, d) <= limits.maxComputeWorkgroupStorageSize) ?? null;
}

function uniforms(dims: AttentionDims, tiles: number): UniformValue[] {
  return attentionUniforms(dims, "tiles", tiles);
}

/**
 * Flash-style forward: a workgroup takes BR query rows of one (batch, head) and walks the keys BC at a time through
 * workgroup memory, keeping per row an online softmax (running max m, sum l) and the weighted sum of v; each K/V
 * row is read from memory once per BR queries, and no score outlives its key tile. Thread (r, j) computes the score
 * of query r and key j of the tile; every thread of row r then rescales its D / BC output columns. The max starts
 * at exactly -FLT_MAX (HF's mask value), so a row whose keys are all masked with it weighs them uniformly (as
 * torch), and a row of all -Infinity ends with l = 0 and gives 0.
 */
function shader(d: number, t: FlashTile, masked: boolean, layout: HeadLayout): string {
  const threads = t.br * t.bc;
  const cpt = Math.ceil(d / t.bc);
  return `
const D = ${d};
const BR = ${t.br};
const BC = ${t.bc};
const CPT = ${cpt};
var<workgroup> qTile : array<f32, ${t.br * d}>;
var<workgroup> kTile : array<f32, ${t.bc * d}>;
var<workgroup> vTile : array<f32, ${t.bc * d}>;
var<workgroup> sTile : array<f32, ${t.br * t.bc}>;
${rowOffsets(layout)}
fn maskAt(b : i32, i : i32, j : i32) -> f32 {
  ${masked ? "return mask[(select(b, 0, uniforms.maskBatch == 1) * uniforms.sq + i) * uniforms.sk + j];" : "return 0.0;"}
}

fn main(index : i32) {
  let tid = i32(localIndex);
  let tileIndex = index / ${threads};
  // Padded workgroups (tfjs may fold a large dispatch) work on tile 0 and write nothing; barriers stay uniform.
  let valid = tileIndex < uniforms.tiles;
  let t = select(0, tileIndex, valid);
  let tilesPerHead = (uniforms.sq + BR - 1) / BR;
  let bh = t / tilesPerHead;
  let q0 = (t % tilesPerHead) * BR;
  let b = bh / uniforms.heads;
  let kvh = (bh % uniforms.heads) / (uniforms.heads / uniforms.kvHeads);
  let qRow0 = bh * uniforms.sq;
  let kRow0 = (b * uniforms.kvHeads + kvh) * uniforms.sk;
  let r = tid / BC;
  let lane = tid % BC;
  let query = q0 + r;

  for (var e = tid; e < BR * D; e = e + ${threads}) {
    let row = q0 + e / D;
    qTile[e] = select(0.0, q[queryRowAt(qRow0 + min(row, uniforms.sq - 1)) + e % D], row < uniforms.sq);
  }
  var m = bitcast<f32>(0xff7fffffu);
  var l = 0.0;
  var acc : array<f32, CPT>;
  for (var k0 = 0; k0 < uniforms.sk; k0 = k0 + BC) {
    for (var e = tid; e < BC * D; e = e + ${threads}) {
      let key = k0 + e / D;
      let inKeys = key < uniforms.sk;
      let at = keyRowAt(kRow0 + min(key, uniforms.sk - 1)) + e % D;
      kTile[e] = select(0.0, k[at], inKeys);
      vTile[e] = select(0.0, v[at], inKeys);
    }
    workgroupBarrier();
    let key = k0 + lane;
    var s = -uniforms.INFINITY;  // keys past the end weigh 0 (tfjs passes INFINITY: WGSL has no infinite constants)
    if (key < uniforms.sk && query < uniforms.sq) {
      var dot = 0.0;
      for (var c = 0; c < D; c = c + 1) { dot = dot + qTile[r * D + c] * kTile[lane * D + c]; }
      s = dot * uniforms.scale + maskAt(b, query, key);
    }
    sTile[r * BC + lane] = s;
    workgroupBarrier();
    var tileMax = m;
    for (var j = 0; j < BC; j = j + 1) { tileMax = max(tileMax, sTile[r * BC + j]); }
    let alpha = exp(m - tileMax);
    m = tileMax;
    l = l * alpha;
    for (var cc = 0; cc < CPT; cc = cc + 1) { acc[cc] = acc[cc] * alpha; }
    for (var j = 0; j < BC; j = j + 1) {
      let p = exp(sTile[r * BC + j] - m);
      l = l + p;
      for (var cc = 0; cc < CPT; cc = cc + 1) {
        let c = lane + cc * BC;
        if (c < D) { acc[cc] = acc[cc] + p * vTile[j * D + c]; }
      }
    }
    workgroupBarrier();  // before the next key tile overwrites kTile, vTile and sTile
  }
  let inv = select(1.0 / l, 0.0, l == 0.0);
  if (valid && query < uniforms.sq) {
    let out = queryRowAt(qRow0 + query);
    for (var cc = 0; cc < CPT; cc = cc + 1) {
      let c = lane + cc * BC;
      if (c < D) { setOutputAtIndex(out + c, acc[cc] * inv); }
    }
  }
}
`;
}

type Inputs = Record<"q" | "k" | "v", tf.TensorInfo> & { mask?: tf.TensorInfo };

/** One dispatch: q [b, h, sq, d] with k, v [b, kvh, sk, d] (and the additive mask) → [b, h, sq, d], or all in bshd. */
export function webgpuFlashAttention(args: KernelArgs, tile: FlashTile): tf.TensorInfo {
  const inputs = args.inputs as Inputs;
  const { q, mask } = inputs;
  const dims = attentionDimsOf(args);
  const masked = mask !== undefined;
  const names = masked ? ["q", "k", "v", "mask"] : ["q", "k", "v"];
  const tiles = dims.batch * dims.heads * Math.ceil(dims.sq / tile.br);
  const program = flatProgram(
    {
      key: `attention_flash_${dims.d}_${tile.br}x${tile.bc}_${masked ? "masked" : "plain"}_${dims.layout}`,
      outputSize: q.shape.reduce((a, b) => a * b, 1),
      inputs: names,
      uniforms: uniforms(dims, tiles),
      body: "",
    },
    tile.br * tile.bc,
    tiles,
    shader(dims.d, tile, masked, dims.layout),
  );
  return runProgram(
    args.backend,
    program,
    names.map((n) => (inputs as Record<string, tf.TensorInfo>)[n]),
    [...q.shape],
  );
}
