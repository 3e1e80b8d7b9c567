import { ShapeMismatchError } from "../errors.js";

/**
 * How a rank-4 per-head tensor is laid out: "bhsd" [batch, heads, seq, headDim] (the attention-major layout), or
 * "bshd" [batch, seq, heads, headDim] (a projection's [batch, seq, heads·headDim] reshaped: no transpose needed).
 */
export type HeadLayout = "bhsd" | "bshd";

interface HeadDims {
  batch: number;
  heads: number;
  seq: number;
  dim: number;
}

/** The layout an op was given (default "bhsd"), or a clear error naming the op for anything else. */
export function headLayout(layout: unknown, op: string): HeadLayout {
  if (layout === undefined || layout === "bhsd" || layout === "bshd") return layout ?? "bhsd";
  throw new ShapeMismatchError(`${op}: layout must be "bhsd" or "bshd", found ${JSON.stringify(layout)}.`, {
    tensor: "layout",
  });
}

/** batch, heads, seq and headDim of a shape in `layout`. */
export function headDims(shape: readonly number[], layout: HeadLayout): HeadDims {
  const [batch, a, b, dim] = shape;
  return layout === "bshd" ? { batch, heads: b, seq: a, dim } : { batch, heads: a, seq: b, dim };
}

/** Floats between consecutive heads and between consecutive positions of one vector row, in `layout`. */
export function headStrides(dims: HeadDims, layout: HeadLayout): { head: number; seq: number } {
  return layout === "bshd"
    ? { head: dims.dim, seq: dims.heads * dims.dim }
    : { head: dims.seq * dims.dim, seq: dims.dim };
}

/**
 * Copies a [batch, n1, n2, dim] block of floats to [batch, n2, n1, dim] (axes 1 and 2 swapped, one dim-long row at a
 * time): bshd → bhsd with (n1, n2) = (seq, heads), and back with (heads, seq).
 */
export function swapMiddleAxes(
  from: { array: Float32Array; offset: number },
  to: { array: Float32Array; offset: number },
  shape: readonly [number, number, number, number],
): void {
  const [batch, n1, n2, dim] = shape;
  const same = from.array === to.array;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n1; i++) {
      for (let j = 0; j < n2; j++) {
        const src = from.offset + ((b * n1 + i) * n2 + j) * dim;
        const dst = to.offset + ((b * n2 + j) * n1 + i) * dim;
        if (same) to.array.copyWithin(dst, src, src + dim);
        else to.array.set(from.array.subarray(src, src + dim), dst);
      }
    }
  }
}
