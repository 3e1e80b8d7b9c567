import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { floatToHalf, halfToFloat } from "../safetensors/dtypes.js";
import { Q8_0_BLOCK_BYTES, dequantizeQ8_0, quantizeQ8_0 } from "./q8-0.js";
import { streamValues } from "./quantize.fixture.js";

const block = (...head: number[]) => {
  const v = new Float32Array(32);
  v.set(head);
  return v;
};
const d16 = (bytes: Uint8Array, b = 0) => bytes[b * 34] | (bytes[b * 34 + 1] << 8);
const qs = (bytes: Uint8Array, b = 0) => Array.from(new Int8Array(bytes.buffer, bytes.byteOffset + b * 34 + 2, 32));

/** All 63488 finite halves as floats, ascending from −65504, for a brute-force round-to-nearest-even. */
const finiteHalves = (() => {
  const list: { h: number; v: number }[] = [];
  for (let h = 0; h < 0x10000; h++) if ((h & 0x7c00) !== 0x7c00) list.push({ h, v: halfToFloat(h) });
  return list
    .sort((a, b) => a.v - b.v || a.h - b.h)
    .filter((e, i, a) => i === 0 || e.v !== a[i - 1].v || !Object.is(e.v, 0));
})();
function nearestEvenHalf(x: number): number {
  if (Math.abs(x) >= 65520) return x > 0 ? 0x7c00 : 0xfc00; // past the midpoint of 65504 and 2^16
  let lo = 0;
  let hi = finiteHalves.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (finiteHalves[mid].v <= x) lo = mid;
    else hi = mid;
  }
  const [a, b] = [finiteHalves[lo], finiteHalves[hi]];
  const pick = x - a.v < b.v - x ? a : x - a.v > b.v - x ? b : (a.h & 1) === 0 ? a : b;
  if (pick.v === 0) return x < 0 || Object.is(x, -0) ? 0x8000 : 0; // zero keeps the sign of x
  return pick.h;
}

describe("floatToHalf (the fp16 conversion of the Q8_0 scale)", () => {
  it("rounds to nearest even everywhere, as ggml’s GGML_FP32_TO_FP16 and torch’s .half() do", () => {
    const xs = [
      0,
      -0,
      65504,
      65519.996,
      65520,
      -65520,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -26,
      2 ** -14,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
    ];
    const random = streamValues({ seed: 21, length: 100_000, scale: 1, outlierEvery: 0, outlierScale: 1 });
    for (let i = 0; i < random.length; i++) xs.push(Math.fround(random[i] * 2 ** ((i % 44) - 28))); // subnormal to overflow
    const wrong = xs.filter((x) => floatToHalf(x) !== nearestEvenHalf(Math.fround(x)));
    expect(wrong).toEqual([]);
  });
});

describe("quantizeQ8_0", () => {
  it("writes 34-byte blocks: fp16 d = amax/127 (little-endian), then 32 int8", () => {
    const bytes = quantizeQ8_0(block(127, 2.5, -2.5, 0.5, -0.5, 126.5, -126.5, 1.5, -1.5, 0.4));
    expect(bytes.length).toBe(Q8_0_BLOCK_BYTES);
    expect(d16(bytes)).toBe(0x3c00); // d = 1
    // roundf rounds halves away from zero.
    expect(qs(bytes).slice(0, 11)).toEqual([127, 3, -3, 1, -1, 127, -127, 2, -2, 0, 0]);
  });

  it("takes amax from a negative value too; q = round(x · (1/d))", () => {
    const bytes = quantizeQ8_0(block(-254, 3, -3, 1, -1, 5));
    expect(halfToFloat(d16(bytes))).toBe(2);
    expect(qs(bytes).slice(0, 6)).toEqual([-127, 2, -2, 1, -1, 3]); // 1.5 → 2, −1.5 → −2, 0.5 → 1, 2.5 → 3
  });

  it("a block of zeros: d = 0 and id = 0 (no division by zero)", () => {
    const bytes = quantizeQ8_0(new Float32Array(32));
    expect(bytes.every((b) => b === 0)).toBe(true);
    expect(dequantizeQ8_0(bytes, 32).every((v) => v === 0)).toBe(true);
  });

  it("a length that is not a multiple of 32 is padded with zeros and cut back on dequantize", () => {
    const values = Float32Array.from({ length: 33 }, (_, i) => i - 16);
    const bytes = quantizeQ8_0(values);
    expect(bytes.length).toBe(2 * Q8_0_BLOCK_BYTES);
    expect(d16(bytes, 1)).toBe(floatToHalf(Math.fround(16 / 127))); // the last block holds 16 and 31 zeros
    expect(qs(bytes, 1)).toEqual([127, ...new Array<number>(31).fill(0)]);
    expect(dequantizeQ8_0(bytes, 33).length).toBe(33);
  });

  it("round-trips within d/2 plus the fp16 rounding of d (|q| ≤ 127 times it) per element", () => {
    const values = streamValues({ seed: 22, length: 32 * 500 + 7, scale: 0.03, outlierEvery: 41, outlierScale: 30 });
    const bytes = quantizeQ8_0(values);
    const back = dequantizeQ8_0(bytes, values.length);
    let worst = 0;
    for (let i = 0; i < values.length; i++) {
      const b = i >> 5;
      let amax = 0;
      for (let j = b * 32; j < Math.min(values.length, b * 32 + 32); j++) amax = Math.max(amax, Math.abs(values[j]));
      const d = Math.fround(amax / 127);
      const bound = d / 2 + 127 * Math.abs(d - halfToFloat(d16(bytes, b))) + 1e-6 * Math.abs(values[i]);
      worst = Math.max(worst, Math.abs(values[i] - back[i]) / bound);
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it("rejects NaN, ±Infinity and values too large for an fp16 scale, naming the value", () => {
    expect(() => quantizeQ8_0(Float32Array.of(1, 2, Number.NaN))).toThrow(/value 2 is NaN/);
    const inf = new Float32Array(40);
    inf[35] = -Infinity;
    expect(() => quantizeQ8_0(inf)).toThrow(ValidationError);
    expect(() => quantizeQ8_0(inf)).toThrow(/value 35 is -Infinity/);
    expect(() => quantizeQ8_0(Float32Array.of(8.3e6))).not.toThrow();
    expect(() => quantizeQ8_0(Float32Array.of(65520 * 127))).toThrow(/fp16 scale/);
  });

  it("dequantizeQ8_0 checks the byte count against the length", () => {
    expect(() => dequantizeQ8_0(new Uint8Array(34), 33)).toThrow(/2 blocks/);
    expect(() => dequantizeQ8_0(new Uint8Array(34), -1)).toThrow(ValidationError);
  });
});
