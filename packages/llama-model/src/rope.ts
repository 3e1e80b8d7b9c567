import * as tf from "@tensorflow/tfjs-core";
import type { LlamaConfig } from "./config.js";

const f32 = Math.fround;

/** Default inverse frequencies, rounded step by step as torch computes them in float32. */
function defaultInvFreq(base: number, dim: number): Float32Array {
  const inv = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) inv[i] = f32(1 / f32(Math.pow(base, f32((2 * i) / dim))));
  return inv;
}

/** Llama 3.1 scaling: long wavelengths divided by `factor`, short ones kept, a smooth ramp between. */
function llama3InvFreq(
  inv: Float32Array,
  s: Extract<LlamaConfig["ropeScaling"], { ropeType: "llama3" }>,
): Float32Array {
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  const out = new Float32Array(inv.length);
  for (let i = 0; i < inv.length; i++) {
    const wavelen = f32((2 * Math.PI) / inv[i]);
    let scaled = wavelen > lowFreqWavelen ? f32(inv[i] / s.factor) : inv[i];
    const isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
    if (isMedium) {
      const smooth = f32(
        f32(f32(s.originalMaxPositionEmbeddings / wavelen) - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor),
      );
      scaled = f32(f32(f32(f32(1 - smooth) * scaled) / s.factor) + f32(smooth * scaled));
    }
    out[i] = scaled;
  }
  return out;
}

/**
 * The rotary inverse frequencies (length headDim/2) for a sequence of `seqLen` positions;
 * only dynamic NTK scaling depends on `seqLen`.
 */
export function computeInvFreq(config: LlamaConfig, seqLen = 0): Float32Array {
  const dim = config.headDim;
  const s = config.ropeScaling;
  switch (s.ropeType) {
    case "default":
      return defaultInvFreq(config.ropeTheta, dim);
    case "linear":
      return defaultInvFreq(config.ropeTheta, dim).map((v) => f32(v / s.factor));
    case "dynamic": {
      const maxPos = s.originalMaxPositionEmbeddings;
      const len = seqLen > maxPos ? seqLen : maxPos;
      const base = config.ropeTheta * Math.pow((s.factor * len) / maxPos - (s.factor - 1), dim / (dim - 2));
      return defaultInvFreq(base, dim);
    }
    case "llama3":
      return llama3InvFreq(defaultInvFreq(config.ropeTheta, dim), s);
  }
}

/** One position's cos and sin (headDim each, HF's duplicated-halves layout) into `cos` and `sin`, in float32 as torch. */
export function writeRotaryRow(invFreq: Float32Array, position: number, cos: Float32Array, sin: Float32Array): void {
  const half = invFreq.length;
  for (let i = 0; i < half; i++) {
    const angle = f32(invFreq[i] * position);
    cos[i] = cos[half + i] = Math.cos(angle);
    sin[i] = sin[half + i] = Math.sin(angle);
  }
}

/** cos and sin tables [batch, 1, seq, headDim] for per-row positions, in HF's rotate-half layout. */
export function ropeTables(
  config: LlamaConfig,
  positions: readonly (readonly number[])[],
): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
  const batch = positions.length;
  const seq = positions[0]?.length ?? 0;
  let maxPos = 0;
  for (const row of positions) for (const p of row) if (p > maxPos) maxPos = p;
  const inv = computeInvFreq(config, maxPos + 1);
  const dim = config.headDim;
  const cos = new Float32Array(batch * seq * dim);
  const sin = new Float32Array(batch * seq * dim);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      const offset = (b * seq + t) * dim;
      writeRotaryRow(inv, positions[b][t], cos.subarray(offset, offset + dim), sin.subarray(offset, offset + dim));
    }
  }
  return { cos: tf.tensor4d(cos, [batch, 1, seq, dim]), sin: tf.tensor4d(sin, [batch, 1, seq, dim]) };
}
