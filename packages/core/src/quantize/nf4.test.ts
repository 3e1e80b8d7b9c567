import { describe, expect, expectTypeOf, it } from "vitest";
import { ValidationError } from "../errors.js";
import { FLT_MAX } from "./cuda-float.js";
import { DYNAMIC_8BIT_MAP } from "./dynamic-8bit.js";
import {
  NF4_CODE,
  NF4_THRESHOLDS,
  dequantizeNf4,
  nf4Bucketed,
  nf4Index,
  quantizeNf4,
  type Nf4NestedAbsmax,
} from "./nf4.js";
import { streamValues } from "./quantize.fixture.js";

const f32 = (...v: number[]) => Float32Array.from(v);
const nextUp = (x: number) => stepUlp(x, 1);
const nextDown = (x: number) => stepUlp(x, -1);
function stepUlp(x: number, dir: 1 | -1): number {
  const a = Float32Array.of(x);
  const u = new Int32Array(a.buffer);
  if (x === 0) return dir * 2 ** -149;
  u[0] += (x > 0 ? 1 : -1) * dir;
  return a[0];
}
/** The largest half-gap between adjacent NF4 codes: the worst rounding error, in units of absmax. */
const NF4_MAX_HALF_GAP = Math.max(...Array.from({ length: 15 }, (_, k) => (NF4_CODE[k + 1] - NF4_CODE[k]) / 2));

describe("NF4 tables", () => {
  it("are bitsandbytes’ code values and dQuantizeNF4’s thresholds (its float literals, rounded to float32)", () => {
    expect(Array.from(NF4_CODE)).toEqual([
      -1, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
      -0.09105003625154495, 0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
      0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1,
    ]);
    const treeLiterals = [
      -0.8480964004993439, -0.6106329262256622, -0.4599952697753906, -0.33967943489551544, -0.23460740596055984,
      -0.13791173323988914, -0.045525018125772476, 0.03979014977812767, 0.1202552504837513, 0.2035212516784668,
      0.2920137718319893, 0.3893125355243683, 0.5016634166240692, 0.6427869200706482, 0.8614784181118011,
    ];
    expect(Array.from(NF4_THRESHOLDS)).toEqual(treeLiterals.map(Math.fround));
    expect(NF4_MAX_HALF_GAP).toBeCloseTo(0.1519036, 7); // between −1 and −0.6961928
  });

  it("the table lookup picks the same code as the threshold tree, at every threshold and bucket edge", () => {
    const probes = [Number.NaN, Infinity, -Infinity, 0, -0, 1, -1, 1.0000001, -1.0000001, 2, -2, 1e30, -1e30];
    for (const t of NF4_THRESHOLDS)
      for (let k = 0, up = t, down = t; k < 4; k++, up = nextUp(up), down = nextDown(down)) probes.push(up, down);
    for (let j = 0; j <= 256; j++) probes.push(j / 128 - 1, nextUp(j / 128 - 1), nextDown(j / 128 - 1));
    const random = streamValues({ seed: 99, length: 200_000, scale: 0.6, outlierEvery: 0, outlierScale: 1 });
    const mismatches = [...probes, ...random].filter((x) => nf4Bucketed(x) !== nf4Index(x));
    expect(mismatches).toEqual([]);
  });

  it("a value exactly at a threshold takes the lower code; one ulp above takes the upper", () => {
    NF4_THRESHOLDS.forEach((t, k) => {
      expect(nf4Index(t)).toBe(k);
      expect(nf4Index(nextUp(t))).toBe(k + 1);
    });
  });
});

describe("quantizeNf4", () => {
  it("packs the first value of a pair in the high nibble", () => {
    // absmax 2, scale 0.5: −1 → 0, −0.5 → 2 (−0.525), 0.25 → 10 (0.246), 1 → 15.
    const q = quantizeNf4(f32(-2, -1, 0.5, 2));
    expect(Array.from(q.packed)).toEqual([0x02, 0xaf]);
    expect(Array.from(q.absmax)).toEqual([2]);
    expect(q).toMatchObject({ blockSize: 64, length: 4 });
    expect(Array.from(dequantizeNf4(q.packed, q.absmax, { length: 4 }))).toEqual(
      [-2, 2 * NF4_CODE[2], 2 * NF4_CODE[10], 2].map(Math.fround),
    );
  });

  it("a block with one large value: it maps to ±1 and the small ones to codes near 0", () => {
    const values = new Float32Array(64);
    values[0] = 8;
    values[1] = -4; // −0.5 → code 2
    values[2] = 0.8; // 0.1 → code 8
    values[3] = 0.01; // 0.00125 → code 7
    const q = quantizeNf4(values);
    expect(q.absmax[0]).toBe(8);
    expect(Array.from(q.packed.subarray(0, 3))).toEqual([0xf2, 0x87, 0x77]);
  });

  it("a block of zeros has absmax 0 and, as the CUDA kernel (0 · 1/0 is NaN), code 0: it dequantizes to −0", () => {
    const q = quantizeNf4(new Float32Array(64));
    expect(Array.from(q.absmax)).toEqual([0]);
    expect(q.packed.every((b) => b === 0)).toBe(true);
    const back = dequantizeNf4(q.packed, q.absmax, { length: 64 });
    expect(back.every((v) => Object.is(v, -0))).toBe(true);
  });

  it("a value exactly at a midpoint rounds down, one ulp above rounds up (absmax 1: the scale is exact)", () => {
    const values = f32(
      1,
      NF4_THRESHOLDS[7],
      nextUp(NF4_THRESHOLDS[7]),
      NF4_THRESHOLDS[0],
      nextUp(NF4_THRESHOLDS[0]),
      0,
    );
    expect(Array.from(quantizeNf4(values).packed)).toEqual([0xf7, 0x80, 0x17]);
  });

  it("a last partial block has its own absmax; an odd length pads the last low nibble with the code of 0", () => {
    const values = new Float32Array(67);
    values[0] = 100;
    values.set([1.5, -1.5, 0.75], 64);
    const q = quantizeNf4(values);
    expect(Array.from(q.absmax)).toEqual([100, 1.5]);
    // 1.5 · fround(1/1.5) = 1.0000001 → 15; −1.0000001 → 0; 0.50000006 → 12; the padding 0 → 7.
    expect(Array.from(q.packed.subarray(32))).toEqual([0xf0, 0xc7]);
    expect(q.packed.length).toBe(34);
    const back = dequantizeNf4(q.packed, q.absmax, { length: 67 });
    expect(Array.from(back.subarray(64))).toEqual([1.5, -1.5, Math.fround(1.5 * NF4_CODE[12])]);
  });

  it("NaN: left out of the absmax, code 0; ±Infinity: absmax Infinity, finite values code 7 (NaN back), infinities code 0", () => {
    const withNan = quantizeNf4(f32(0.5, Number.NaN, -0.25, 0.125), { blockSize: 32 });
    expect(withNan.absmax[0]).toBe(0.5);
    expect(withNan.packed[0] >> 4).toBe(15);
    expect(withNan.packed[0] & 15).toBe(0);
    const withInf = quantizeNf4(f32(Infinity, 1, -1, -Infinity), { blockSize: 32 });
    expect(withInf.absmax[0]).toBe(Infinity);
    expect(Array.from(withInf.packed)).toEqual([0x07, 0x70]);
    expect(Array.from(dequantizeNf4(withInf.packed, withInf.absmax, { blockSize: 32, length: 4 }))).toEqual([
      -Infinity,
      Number.NaN,
      Number.NaN,
      -Infinity,
    ]);
    // A full block of NaN reduces to the kernel's starting value, −FLT_MAX.
    const allNan = quantizeNf4(new Float32Array(32).fill(Number.NaN), { blockSize: 32 });
    expect(allNan.absmax[0]).toBe(Math.fround(-FLT_MAX));
  });

  it("subnormals read as zero (the kernels run with flush-to-zero)", () => {
    const q = quantizeNf4(f32(1e-40, -1e-40, 2 ** -149, 0), { blockSize: 32 });
    expect(q.absmax[0]).toBe(0);
  });

  it("error per element ≤ absmax · (largest half-gap between codes), for every block size", () => {
    const values = streamValues({ seed: 5, length: 64 * 99 + 31, scale: 0.05, outlierEvery: 31, outlierScale: 25 });
    for (const blockSize of [32, 64, 128, 256, 512, 1024, 2048, 4096]) {
      const q = quantizeNf4(values, { blockSize });
      const back = dequantizeNf4(q.packed, q.absmax, { blockSize, length: values.length });
      let worst = 0;
      for (let i = 0; i < values.length; i++) {
        const absmax = q.absmax[Math.floor(i / blockSize)];
        worst = Math.max(worst, Math.abs(values[i] - back[i]) / absmax);
      }
      expect(worst).toBeLessThanOrEqual(NF4_MAX_HALF_GAP + 2 ** -22); // plus float32 rounding of x · (1/absmax)
      expect(worst).toBeGreaterThan(0.1); // the bound is nearly reached: this is a real test of it
    }
  });

  it("double quantization: nested absmax in 8-bit blocks of 256 around their mean; error ≤ bound + absmax error", () => {
    const values = streamValues({ seed: 6, length: 64 * 700 + 10, scale: 0.02, outlierEvery: 53, outlierScale: 12 });
    const plain = quantizeNf4(values);
    const q = quantizeNf4(values, { doubleQuant: true });
    expectTypeOf(q.absmax).toEqualTypeOf<Nf4NestedAbsmax>();
    expect(q.packed).toEqual(plain.packed); // the codes do not depend on how absmax is stored
    expect(q.absmax.quantized.length).toBe(701);
    expect(q.absmax.absmax.length).toBe(3);
    expect(q.absmax.blockSize).toBe(256);
    expect(q.absmax.code).toEqual(DYNAMIC_8BIT_MAP);
    const mean = plain.absmax.reduce((s, a) => s + a, 0) / plain.absmax.length;
    expect(q.absmax.offset).toBe(Math.fround(mean));

    const back = dequantizeNf4(q.packed, q.absmax, { length: values.length });
    const exact = dequantizeNf4(plain.packed, plain.absmax, { length: values.length });
    let worstAbsmax = 0;
    let worstValue = 0;
    for (let i = 0; i < values.length; i++) {
      const b = Math.floor(i / 64);
      const absmaxError = Math.abs(exact[i] - back[i]);
      // The nested 8-bit map's codes near ±1 are 0.0141 apart: an absmax is off by at most 0.0071 of its block's range.
      worstAbsmax = Math.max(worstAbsmax, absmaxError / (0.0071 * q.absmax.absmax[b >> 8] + 1e-7));
      worstValue = Math.max(
        worstValue,
        Math.abs(values[i] - back[i]) / (plain.absmax[b] * (NF4_MAX_HALF_GAP + 2 ** -22) + absmaxError),
      );
    }
    expect(worstAbsmax).toBeLessThanOrEqual(1);
    expect(worstValue).toBeLessThanOrEqual(1);
  });

  it("rejects block sizes bitsandbytes does not take, and mismatched lengths", () => {
    expect(() => quantizeNf4(new Float32Array(4), { blockSize: 48 })).toThrow(ValidationError);
    const q = quantizeNf4(new Float32Array(130));
    expect(() => dequantizeNf4(q.packed, q.absmax, { length: 131 })).toThrow(/packed bytes/);
    expect(() => dequantizeNf4(q.packed, q.absmax, { length: 130, blockSize: 32 })).toThrow(/absmax/);
    expect(() => dequantizeNf4(q.packed, q.absmax.subarray(1), { length: 130 })).toThrow(ValidationError);
  });

  it("handles an empty input", () => {
    const q = quantizeNf4(new Float32Array(0), { doubleQuant: true });
    expect(q.packed.length).toBe(0);
    expect(dequantizeNf4(q.packed, q.absmax, { length: 0 }).length).toBe(0);
  });
});
