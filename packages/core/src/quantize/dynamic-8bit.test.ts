import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { DYNAMIC_8BIT_MAP, dequantizeBlockwise8Bit, quantizeBlockwise8Bit, searchCode } from "./dynamic-8bit.js";
import { streamValues } from "./quantize.fixture.js";

const map = DYNAMIC_8BIT_MAP;
const maxHalfGap = Math.max(...Array.from({ length: 255 }, (_, k) => (map[k + 1] - map[k]) / 2));

describe("DYNAMIC_8BIT_MAP", () => {
  it("is bitsandbytes’ signed dynamic map: 256 sorted codes, 0 at 127, ends −0.99296875 and 1, symmetric", () => {
    expect(map.length).toBe(256);
    for (let k = 1; k < 256; k++) expect(map[k]).toBeGreaterThan(map[k - 1]);
    expect(map[127]).toBe(0);
    expect(map[0]).toBe(Math.fround(-0.992968738079071));
    expect(map[255]).toBe(1);
    for (let k = 0; k < 127; k++) expect(map[k]).toBe(-map[254 - k]);
    expect(maxHalfGap).toBeCloseTo(0.00703125, 6);
  });

  it("each code is within one ulp of the exact mean of the exact linspace (only float32 rounding differs)", () => {
    const exact: number[] = [0, 1];
    for (let i = 0; i < 7; i++) {
      const n = 2 ** i + 1;
      for (let k = 0; k < n - 1; k++) {
        const mean = (0.1 + (0.9 * k) / (n - 1) + 0.1 + (0.9 * (k + 1)) / (n - 1)) / 2;
        exact.push(mean * 10 ** (i - 6), -mean * 10 ** (i - 6));
      }
    }
    exact.sort((a, b) => a - b);
    exact.forEach((v, k) => expect(Math.abs(map[k] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -22));
  });
});

describe("searchCode", () => {
  it("finds the nearest code (a tie at a midpoint stays on the pivot the search ended on)", () => {
    const xs = streamValues({ seed: 11, length: 10_000, scale: 0.7, outlierEvery: 3, outlierScale: 0.001 });
    let worse = 0;
    for (const x of xs) {
      const best = Math.min(...Array.from(map, (c) => Math.abs(c - x)));
      if (Math.abs(map[searchCode(map, x)] - x) > best + 1e-7) worse++;
    }
    expect(worse).toBe(0);
    expect(searchCode(map, Number.NaN)).toBe(0);
    expect(searchCode(map, 2)).toBe(255);
    expect(searchCode(map, -2)).toBe(0);
    expect(searchCode(map, 0)).toBe(127);
  });
});

describe("quantizeBlockwise8Bit", () => {
  it("round-trips within absmax · (largest half-gap of the map) per element", () => {
    const values = streamValues({ seed: 12, length: 10_000, scale: 1, outlierEvery: 17, outlierScale: 40 });
    for (const blockSize of [64, 256, 4096]) {
      const { quantized, absmax } = quantizeBlockwise8Bit(values, { blockSize });
      expect(absmax.length).toBe(Math.ceil(10_000 / blockSize));
      const back = dequantizeBlockwise8Bit(quantized, absmax, { blockSize });
      let worst = 0;
      for (let i = 0; i < values.length; i++)
        worst = Math.max(worst, Math.abs(values[i] - back[i]) / absmax[Math.floor(i / blockSize)]);
      expect(worst).toBeLessThanOrEqual(maxHalfGap + 2 ** -22); // plus float32 rounding of x · (1/absmax)
    }
  });

  it("a block’s largest value maps to ±1 (negative: the map ends at −0.99296875)", () => {
    const { quantized } = quantizeBlockwise8Bit(Float32Array.of(3, -1.5, 0), { blockSize: 64 });
    expect(Array.from(quantized)).toEqual([255, searchCode(map, -0.5), 127]);
    expect(Array.from(quantizeBlockwise8Bit(Float32Array.of(-3, 1), { blockSize: 64 }).quantized)[0]).toBe(0);
  });

  it("rejects other block sizes and code maps that are not 256 long", () => {
    expect(() => quantizeBlockwise8Bit(new Float32Array(4), { blockSize: 32 })).toThrow(ValidationError);
    expect(() => quantizeBlockwise8Bit(new Float32Array(4), { code: new Float32Array(16) })).toThrow(/256/);
    expect(() => dequantizeBlockwise8Bit(new Uint8Array(300), new Float32Array(1), { blockSize: 256 })).toThrow(
      /absmax/,
    );
  });
});
