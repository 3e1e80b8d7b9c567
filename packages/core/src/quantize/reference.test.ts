// Byte-for-byte agreement with test-fixtures/quantize/: outputs of generate.py, an independent float32 torch
// implementation of bitsandbytes' CUDA kernels (NF4, 8-bit dynamic blockwise) and llama.cpp's Q8_0 reference.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DYNAMIC_8BIT_MAP, dequantizeBlockwise8Bit, quantizeBlockwise8Bit } from "./dynamic-8bit.js";
import { NF4_CODE, NF4_THRESHOLDS, dequantizeNf4, quantizeNf4 } from "./nf4.js";
import { dequantizeQ8_0, quantizeQ8_0 } from "./q8-0.js";
import {
  caseInputs,
  fixtureBytes,
  fixtureFloat32,
  fixtureManifest,
  float32FromBits,
  type FixtureCase,
  type FixtureFile,
} from "./quantize.fixture.js";

const manifest = fixtureManifest();
const sha256 = (a: Uint8Array | Float32Array) =>
  createHash("sha256")
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest("hex");
const bitsOf = (a: Float32Array) =>
  Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (w) => w.toString(16).padStart(8, "0")).join("");

function expectBytes(actual: Uint8Array | Float32Array, file: FixtureFile): void {
  const expected = fixtureBytes(file.file);
  expect(sha256(expected)).toBe(file.sha256); // the fixture file itself is intact
  const bytes = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
  expect(bytes.length).toBe(expected.length);
  const first = bytes.findIndex((b, i) => b !== expected[i]);
  expect(first, `${file.file}: first differing byte`).toBe(-1);
}

describe("quantize reference fixtures", () => {
  it("share the NF4 codes, the thresholds of dQuantizeNF4 and the 8-bit dynamic map", () => {
    expect(bitsOf(NF4_CODE)).toBe(manifest.nf4Code);
    expect(bitsOf(NF4_THRESHOLDS)).toBe(manifest.nf4Thresholds);
    expect(bitsOf(DYNAMIC_8BIT_MAP)).toBe(manifest.dynamic8BitMap);
  });

  const cases = (kind: FixtureCase["kind"]) =>
    manifest.cases.filter((c) => c.kind === kind).map((c) => [c.name, c] as const);

  it.each(cases("nf4"))("%s: NF4 bytes, absmax and dequantized values match", (_, c) => {
    const values = caseInputs(c);
    expect(values.length).toBe(c.length);
    const blockSize = c.blockSize!;
    if (c.doubleQuant) {
      const q = quantizeNf4(values, { blockSize, doubleQuant: true });
      expectBytes(q.packed, c.packed!);
      expectBytes(q.absmax.quantized, c.doubleQuant.quantized);
      expectBytes(q.absmax.absmax, c.doubleQuant.absmax);
      expect(bitsOf(Float32Array.of(q.absmax.offset))).toBe(c.doubleQuant.offset);
      expect(sha256(dequantizeNf4(q.packed, q.absmax, { blockSize, length: c.length }))).toBe(c.dequantizedSha256);
      // The nested state as read back from files (Python's bytes) dequantizes the same.
      const fromFiles = {
        quantized: fixtureBytes(c.doubleQuant.quantized.file),
        absmax: fixtureFloat32(c.doubleQuant.absmax.file),
        offset: float32FromBits(c.doubleQuant.offset)[0],
        blockSize: 256,
        code: float32FromBits(manifest.dynamic8BitMap),
      };
      expect(sha256(dequantizeNf4(fixtureBytes(c.packed!.file), fromFiles, { blockSize, length: c.length }))).toBe(
        c.dequantizedSha256,
      );
    } else {
      const q = quantizeNf4(values, { blockSize });
      expectBytes(q.packed, c.packed!);
      expectBytes(q.absmax, c.absmax!);
      expect(sha256(dequantizeNf4(q.packed, q.absmax, { blockSize, length: c.length }))).toBe(c.dequantizedSha256);
    }
  });

  it.each(cases("blockwise8"))("%s: 8-bit dynamic blockwise bytes and values match", (_, c) => {
    const q = quantizeBlockwise8Bit(caseInputs(c), { blockSize: c.blockSize! });
    expectBytes(q.quantized, c.quantized!);
    expectBytes(q.absmax, c.absmax!);
    expect(sha256(dequantizeBlockwise8Bit(q.quantized, q.absmax, { blockSize: c.blockSize! }))).toBe(
      c.dequantizedSha256,
    );
  });

  it.each(cases("q8_0"))("%s: Q8_0 blocks and values match", (_, c) => {
    const bytes = quantizeQ8_0(caseInputs(c));
    expectBytes(bytes, c.blocks!);
    expect(sha256(dequantizeQ8_0(bytes, c.length))).toBe(c.dequantizedSha256);
  });
});
