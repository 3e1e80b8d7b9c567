import type * as tf from "@tensorflow/tfjs-core";
import { LlamatsError } from "../errors.js";
import type { KernelArgs } from "./kernel-types.js";
import type { WebgpuBackendLike, WebgpuProgram } from "./webgpu-program.js";

/**
 * One tile shape of the matmul: each of the WX × WY threads computes a TM × TN register block of a (WY·TM) × (WX·TN)
 * output tile, stepping through the inner dimension TK at a time via workgroup memory. TM and TN are multiples of 4.
 */
export interface MatMulTile {
  tm: number;
  tn: number;
  wx: number;
  wy: number;
  tk: number;
}

/** The device limits a tile must fit (GPUSupportedLimits' names). */
export interface MatMulLimits {
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupsPerDimension: number;
}

/**
 * Square tiles largest first: 128×128 (64 accumulators a thread) for big products, down to 32×32 for small ones;
 * then a 4×256 tile for a decode step's one to four rows, where a square tile would compute 32 rows to use one.
 */
export const MATMUL_TILES: readonly MatMulTile[] = [
  { tm: 8, tn: 8, wx: 16, wy: 16, tk: 32 },
  { tm: 8, tn: 8, wx: 16, wy: 16, tk: 16 },
  { tm: 4, tn: 4, wx: 16, wy: 16, tk: 16 },
  { tm: 4, tn: 4, wx: 8, wy: 8, tk: 16 },
  { tm: 4, tn: 4, wx: 64, wy: 1, tk: 8 },
];

/** Products of at most this many rows take the last (row) tile. */
const ROW_TILE_MAX_ROWS = 4;

/** Enough workgroups to fill a large GPU (an H100 has 132 SMs): a bigger tile that leaves SMs idle is slower. */
const MIN_WORKGROUPS = 128;

/** Bytes of workgroup memory a tile takes: the A and B slices, float32. */
export function tileStorageBytes(t: MatMulTile): number {
  return t.tk * (t.wy * t.tm + t.wx * t.tn) * 4;
}

/**
 * The largest tile the device allows that still gives MIN_WORKGROUPS workgroups for this product (else the smallest
 * that fits): a 128×128 tile on a 4096² product, the row tile for a decode step.
 */
export function chooseTile(limits: MatMulLimits, m: number, n: number, batch: number): MatMulTile {
  const rowTile = MATMUL_TILES[MATMUL_TILES.length - 1];
  // It fits WebGPU's guaranteed minimum limits (64 threads, 8.3 KB).
  if (m <= ROW_TILE_MAX_ROWS) return rowTile;
  const fitting = MATMUL_TILES.slice(0, -1).filter(
    (t) =>
      tileStorageBytes(t) <= limits.maxComputeWorkgroupStorageSize &&
      t.wx * t.wy <= limits.maxComputeInvocationsPerWorkgroup &&
      t.wx <= limits.maxComputeWorkgroupSizeX &&
      t.wy <= limits.maxComputeWorkgroupSizeY,
  );
  // The last tile fits WebGPU's guaranteed minimum limits, so `fitting` is never empty.
  const workgroups = (t: MatMulTile) => Math.ceil(m / (t.wy * t.tm)) * Math.ceil(n / (t.wx * t.tn)) * batch;
  return fitting.find((t) => workgroups(t) >= MIN_WORKGROUPS) ?? fitting[fitting.length - 1];
}

/** How a product is laid out: which operands are stored transposed, and which loads can be vec4. */
export interface MatMulLayout {
  transposeA: boolean;
  transposeB: boolean;
  /** A's storage rows (K without transposeA, M with it) are a multiple of 4 floats. */
  vecA: boolean;
  vecB: boolean;
  /** N is a multiple of 4: whole vec4 stores. */
  vecC: boolean;
  /** An addend of the result's shape is read as the result is stored (read with the result's vec4-ness). */
  addend: boolean;
  /**
   * B is a packed weight (bf16, int8 or nf4: its format code), read element by element through the `weightAt` the
   * caller's prelude defines, and widened to float32 as the tile is staged; vecB is then false.
   */
  packedB?: number;
}

/** WGSL that fills one operand's tile slice (k-major, vec4 per 4 rows or columns of the tile) from storage. */
function loadTile(
  name: "A" | "B",
  rows: number,
  tk: number,
  threads: number,
  transposed: boolean,
  vec: boolean,
  packed = false,
): string {
  // Tile entry (r, kk) = op(X)[r0 + r][k0 + kk]; stored at S[kk][r], i.e. vec4 S[kk * rows/4 + r/4][r % 4].
  const s = `tile${name}`;
  const src = name.toLowerCase();
  // One element at a flat index: a storage read, or a packed weight's element unpacked in registers.
  const at = (index: string) => (packed ? `weightAt(${index})` : `${src}[${index}]`);
  const dim = name === "A" ? "uniforms.M" : "uniforms.N";
  const r0 = name === "A" ? "m0" : "n0";
  const base = `base${name}`;
  // Storage contiguous along the tile's r (A transposed, B not) or along k (A not, B transposed).
  const alongR = name === "A" ? transposed : !transposed;
  if (alongR) {
    if (vec) {
      const count = (rows / 4) * tk;
      return loop(count, threads, (l) => [
        `let kk = ${l} / ${rows / 4}; let rq = ${l} % ${rows / 4};`,
        `let r = ${r0} + rq * 4; let k = k0 + kk;`,
        `var v = vec4<f32>(0.0);`,
        `if (r < ${dim} && k < uniforms.K) { v = ${src}[(${base} + k * ${dim} + r) / 4]; }`,
        `${s}[kk * ${rows / 4} + rq] = v;`,
      ]);
    }
    return loop(rows * tk, threads, (l) => [
      `let kk = ${l} / ${rows}; let rr = ${l} % ${rows};`,
      `let r = ${r0} + rr; let k = k0 + kk;`,
      `var v = 0.0;`,
      `if (r < ${dim} && k < uniforms.K) { v = ${at(`${base} + k * ${dim} + r`)}; }`,
      `${s}[kk * ${rows / 4} + rr / 4][rr % 4] = v;`,
    ]);
  }
  if (vec) {
    const count = rows * (tk / 4);
    return loop(count, threads, (l) => [
      `let rr = ${l} / ${tk / 4}; let kq = ${l} % ${tk / 4};`,
      `let r = ${r0} + rr; let k = k0 + kq * 4;`,
      `var v = vec4<f32>(0.0);`,
      `if (r < ${dim} && k < uniforms.K) { v = ${src}[(${base} + r * uniforms.K + k) / 4]; }`,
      `let slot = (kq * 4) * ${rows / 4} + rr / 4; let lane = rr % 4;`,
      `${s}[slot][lane] = v.x;`,
      `${s}[slot + ${rows / 4}][lane] = v.y;`,
      `${s}[slot + ${rows / 2}][lane] = v.z;`,
      `${s}[slot + ${(rows / 4) * 3}][lane] = v.w;`,
    ]);
  }
  return loop(rows * tk, threads, (l) => [
    `let rr = ${l} / ${tk}; let kk = ${l} % ${tk};`,
    `let r = ${r0} + rr; let k = k0 + kk;`,
    `var v = 0.0;`,
    `if (r < ${dim} && k < uniforms.K) { v = ${at(`${base} + r * uniforms.K + k`)}; }`,
    `${s}[kk * ${rows / 4} + rr / 4][rr % 4] = v;`,
  ]);
}

/** `count` loads shared by `threads` threads, unrolled (count is a multiple of threads for every tile in MATMUL_TILES). */
function loop(count: number, threads: number, body: (l: string) => string[]): string {
  const lines: string[] = [];
  for (let i = 0; i < Math.ceil(count / threads); i++) {
    const l = `(tid + ${i * threads})`;
    const inner = body("l").map((line) => `      ${line}`);
    const guard = (i + 1) * threads > count ? `if (l < ${count}) ` : "";
    lines.push(`    { let l = ${l}; ${guard}{\n${inner.join("\n")}\n    } }`);
  }
  return lines.join("\n");
}

/**
 * The WGSL of one tile shape and layout. Thread (tx, ty) owns rows (i·WY + ty)·4 + c and columns (j·WX + tx)·4 + c
 * of the tile (interleaved, so a warp's workgroup-memory reads are consecutive vec4s and its stores coalesce).
 */
function matMulShader(t: MatMulTile, layout: MatMulLayout, prelude: string): string {
  const bm = t.wy * t.tm;
  const bn = t.wx * t.tn;
  const threads = t.wx * t.wy;
  const mi = t.tm / 4;
  const nj = t.tn / 4;
  const acc: string[] = [];
  for (let i = 0; i < t.tm; i++) for (let j = 0; j < nj; j++) acc.push(`var acc_${i}_${j} = vec4<f32>(0.0);`);
  const fma: string[] = [];
  for (let i = 0; i < mi; i++) fma.push(`let a${i} = tileA[kk * ${bm / 4} + ${i * t.wy} + ty];`);
  for (let j = 0; j < nj; j++) fma.push(`let b${j} = tileB[kk * ${bn / 4} + ${j * t.wx} + tx];`);
  for (let i = 0; i < t.tm; i++) {
    const a = `a${Math.floor(i / 4)}.${"xyzw"[i % 4]}`;
    for (let j = 0; j < nj; j++) fma.push(`acc_${i}_${j} = fma(vec4<f32>(${a}), b${j}, acc_${i}_${j});`);
  }
  const store: string[] = [];
  for (let i = 0; i < t.tm; i++) {
    const row = `m0 + (${Math.floor(i / 4) * t.wy} + ty) * 4 + ${i % 4}`;
    for (let j = 0; j < nj; j++) {
      const col = `n0 + (${j * t.wx} + tx) * 4`;
      const v = `acc_${i}_${j}`;
      // The epilogue: alpha · acc (+ addend at the same index).
      const vec = (at: string) => `uniforms.alpha * ${v}${layout.addend ? ` + addend[${at}]` : ""}`;
      const lane = (at: string) => `uniforms.alpha * ${v}[e]${layout.addend ? ` + addend[${at}]` : ""}`;
      store.push(
        layout.vecC
          ? `{ let r = ${row}; let c = ${col}; if (r < uniforms.M && c < uniforms.N) { let at = (baseC + r * uniforms.N + c) / 4; result[at] = ${vec("at")}; } }`
          : `{ let r = ${row}; let c = ${col}; if (r < uniforms.M) { for (var e = 0; e < 4; e = e + 1) { if (c + e < uniforms.N) { let at = baseC + r * uniforms.N + c + e; result[at] = ${lane("at")}; } } } }`,
      );
    }
  }
  return `
${prelude}
var<workgroup> tileA : array<vec4<f32>, ${(t.tk * bm) / 4}>;
var<workgroup> tileB : array<vec4<f32>, ${(t.tk * bn) / 4}>;

fn main() {
  let tid = i32(localIndex);
  let tx = i32(localId.x);
  let ty = i32(localId.y);
  let n0 = i32(workgroupId.x) * ${bn};
  let m0 = i32(workgroupId.y) * ${bm};
  let batch = i32(workgroupId.z);
  let baseA = select(batch, 0, uniforms.batchA == 1) * uniforms.M * uniforms.K;
  let baseB = select(batch, 0, uniforms.batchB == 1) * uniforms.N * uniforms.K;
  let baseC = batch * uniforms.M * uniforms.N;
  ${acc.join("\n  ")}
  for (var k0 = 0; k0 < uniforms.K; k0 = k0 + ${t.tk}) {
${loadTile("A", bm, t.tk, threads, layout.transposeA, layout.vecA)}
${loadTile("B", bn, t.tk, threads, layout.transposeB, layout.vecB, layout.packedB !== undefined)}
    workgroupBarrier();
    for (var kk = 0; kk < ${t.tk}; kk = kk + 1) {
      ${fma.join("\n      ")}
    }
    workgroupBarrier();
  }
  ${store.join("\n  ")}
}
`;
}

/** The parts of tfjs-backend-webgpu's backend the matmul reads besides runWebGPUProgram: its device's limits. */
interface WebgpuDeviceBackend extends WebgpuBackendLike {
  device: { limits: MatMulLimits };
}

/** One tiled product: a [batchA, M, K] (or transposed), B from `b` (a tensor or a packed weight) → [batch, M, N]. */
export interface TiledProduct {
  a: tf.TensorInfo;
  /** B's inputs, in variable order: ["b"] for a tensor, ["words", "scales"] for a packed weight. */
  b: Record<string, tf.TensorInfo>;
  addend?: tf.TensorInfo;
  m: number;
  n: number;
  k: number;
  batchA: number;
  batchB: number;
  transposeA: boolean;
  transposeB: boolean;
  alpha: number;
  /** A packed B: its format code, the WGSL defining `weightAt(f : i32) -> f32`, and its block size uniform. */
  packed?: { format: number; weightAt: string; blockSize: number };
  /** Tests only: one of MATMUL_TILES. */
  tile?: number;
}

/** The tiled kernel for one product (plain or packed B): tile from the device's limits, one dispatch. */
export function tiledMatMul(backend: unknown, p: TiledProduct): tf.TensorInfo {
  const { m, n, k, batchA, batchB, transposeA, transposeB, addend, packed } = p;
  const batch = Math.max(batchA, batchB);
  const device = backend as WebgpuDeviceBackend;
  const limits = device.device.limits;
  const tile = p.tile === undefined ? chooseTile(limits, m, n, batch) : MATMUL_TILES[p.tile];
  const bNames = Object.keys(p.b);
  const layout: MatMulLayout = {
    transposeA,
    transposeB,
    vecA: (transposeA ? m : k) % 4 === 0,
    vecB: !packed && (transposeB ? k : n) % 4 === 0,
    vecC: n % 4 === 0,
    addend: addend !== undefined,
    ...(packed ? { packedB: packed.format } : {}),
  };
  const dispatch: [number, number, number] = [
    Math.ceil(n / (tile.wx * tile.tn)),
    Math.ceil(m / (tile.wy * tile.tm)),
    batch,
  ];
  if (dispatch.some((d) => d > limits.maxComputeWorkgroupsPerDimension))
    throw new LlamatsError(
      `LlamatsMatMul: [${batch}, ${m}, ${n}] needs ${dispatch.join(" × ")} workgroups, past the device's ${limits.maxComputeWorkgroupsPerDimension} a dimension.`,
    );
  const key = [
    packed ? `matmul_packed${packed.format}` : "matmul",
    tile.tm,
    tile.tn,
    tile.wx,
    tile.wy,
    tile.tk,
    ...[transposeA, transposeB, layout.vecA, layout.vecB, layout.vecC, layout.addend].map(Number),
  ].join("_");
  const bComponents = bNames.map(() => (layout.vecB ? 4 : 1));
  const program: WebgpuProgram & { variableComponents: number[]; outputComponent: number } = {
    outputShape: [batch, m, n],
    shaderKey: `llamats_${key}`,
    dispatchLayout: { x: [2], y: [1], z: [0] } as unknown as { x: number[] },
    dispatch,
    variableNames: ["a", ...bNames, ...(addend ? ["addend"] : [])],
    variableComponents: [layout.vecA ? 4 : 1, ...bComponents, ...(addend ? [layout.vecC ? 4 : 1] : [])],
    outputComponent: layout.vecC ? 4 : 1,
    workgroupSize: [tile.wx, tile.wy, 1],
    size: false,
    uniforms: `M : i32, N : i32, K : i32, batchA : i32, batchB : i32, alpha : f32,${packed ? " pblock : i32," : ""}`,
    getUserCode: () => matMulShader(tile, layout, packed?.weightAt ?? ""),
    uniformValues: [],
  };
  return device.runWebGPUProgram(program, [p.a, ...Object.values(p.b), ...(addend ? [addend] : [])], "float32", [
    { type: "int32", data: [m] },
    { type: "int32", data: [n] },
    { type: "int32", data: [k] },
    { type: "int32", data: [batchA] },
    { type: "int32", data: [batchB] },
    { type: "float32", data: [p.alpha] },
    ...(packed ? [{ type: "int32" as const, data: [packed.blockSize] }] : []),
  ]);
}

/**
 * a [batchA, M, K] (or [batchA, K, M] with transposeA), b [batchB, K, N] (or [batchB, N, K]) → alpha · a·b (+ addend)
 * [batch, M, N].
 */
export function webgpuMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b, addend } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo; addend?: tf.TensorInfo };
  const transposeA = args.attrs!.transposeA as boolean;
  const transposeB = args.attrs!.transposeB as boolean;
  const [batchA, a1, a2] = a.shape;
  const [batchB, b1, b2] = b.shape;
  const [m, k] = transposeA ? [a2, a1] : [a1, a2];
  return tiledMatMul(args.backend, {
    a,
    b: { b },
    ...(addend ? { addend } : {}),
    m,
    n: transposeB ? b1 : b2,
    k,
    batchA,
    batchB,
    transposeA,
    transposeB,
    alpha: (args.attrs!.alpha as number | undefined) ?? 1,
    // attrs.tile (tests only) forces one of MATMUL_TILES, so every tile shape runs on the test adapter.
    ...(args.attrs?.tile === undefined ? {} : { tile: args.attrs.tile as number }),
  });
}
