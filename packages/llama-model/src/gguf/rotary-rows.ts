// llama.cpp rotates adjacent pairs (x0, x1), (x2, x3)… while HF LLaMA rotates the two halves of each head
// (rotate_half), so Q and K projection rows are reordered per head as llama.cpp's converter does (its `permute`).

/**
 * Rows of a [heads · headDim, cols] matrix (or a [heads · headDim] bias, cols = 1) in llama.cpp's order:
 * within each head, row 2i + j takes HF row j · headDim/2 + i.
 */
export function interleaveRotaryRows(values: Float32Array, heads: number, cols: number): Float32Array {
  const rows = values.length / cols;
  const headDim = rows / heads;
  const half = headDim / 2;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * headDim + j * half + i) * cols;
        const to = (h * headDim + 2 * i + j) * cols;
        out.set(values.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}
