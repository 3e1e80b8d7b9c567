// Inputs of the reference fixtures in test-fixtures/quantize/ (made by its generate.py), reproduced bit for bit.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const FIXTURE_DIR = fileURLToPath(new URL("../../test-fixtures/quantize/", import.meta.url));

export interface StreamSpec {
  seed: number;
  length: number;
  scale: number;
  outlierEvery: number;
  outlierScale: number;
}

/** generate.py's stream_values: xorshift32; (u1+u2+u3+u4−2)·scale (·outlierScale every outlierEvery-th) in double, then float32. */
export function streamValues({ seed, length, scale, outlierEvery, outlierScale }: StreamSpec): Float32Array {
  let x = seed >>> 0;
  const draw = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let v = (draw() + draw() + draw() + draw() - 2) * scale;
    if (outlierEvery && i % outlierEvery === 0) v *= outlierScale;
    out[i] = v;
  }
  return out;
}

/** float32 values from a string of 8-hex-digit bit patterns. */
export function float32FromBits(hex: string): Float32Array {
  const words = new Uint32Array(hex.length / 8);
  for (let i = 0; i < words.length; i++) words[i] = parseInt(hex.slice(8 * i, 8 * i + 8), 16);
  return new Float32Array(words.buffer);
}

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(FIXTURE_DIR + name));
}

export function fixtureFloat32(name: string): Float32Array {
  const bytes = fixtureBytes(name);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

export interface FixtureFile {
  file: string;
  sha256: string;
}

export interface FixtureCase {
  name: string;
  kind: "nf4" | "blockwise8" | "q8_0";
  blockSize?: number;
  length: number;
  inputs: { stream: StreamSpec } | { bits: string };
  packed?: FixtureFile;
  absmax?: FixtureFile;
  quantized?: FixtureFile;
  blocks?: FixtureFile;
  doubleQuant?: { quantized: FixtureFile; absmax: FixtureFile; offset: string };
  dequantizedSha256: string;
}

export interface FixtureManifest {
  torch: string;
  nf4Code: string;
  nf4Thresholds: string;
  dynamic8BitMap: string;
  installedTorchDynamicMapDiffers: number;
  cases: FixtureCase[];
}

export function fixtureManifest(): FixtureManifest {
  return JSON.parse(readFileSync(FIXTURE_DIR + "manifest.json", "utf8")) as FixtureManifest;
}

export function caseInputs(c: FixtureCase): Float32Array {
  return "stream" in c.inputs ? streamValues(c.inputs.stream) : float32FromBits(c.inputs.bits);
}
