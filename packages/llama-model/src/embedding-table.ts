import * as tf from "@tensorflow/tfjs-core";
import { gatherRows } from "./gather-rows.js";

/** The model's token embedding: ids [n] → rows [n, hidden]. */
export interface TokenEmbedding {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  /** Rows for int32 ids, differentiable w.r.t. a trainable table. */
  lookup(ids: tf.Tensor1D): tf.Tensor2D;
  /** The same rows without gradient bookkeeping: the decoding path. */
  lookupNoGrad(ids: tf.Tensor1D): tf.Tensor2D;
}

/**
 * The token embedding as one or more row chunks along the vocabulary (see weight-chunks.ts): a lookup
 * gathers each id from the chunk that holds it, so the result and its gradient equal the unsplit table's.
 */
export class EmbeddingTable implements TokenEmbedding {
  /** First row of each chunk. */
  private readonly starts: number[];
  readonly vocabSize: number;
  readonly hiddenSize: number;

  constructor(readonly chunks: readonly tf.Variable[]) {
    this.starts = [];
    let rows = 0;
    for (const chunk of chunks) {
      this.starts.push(rows);
      rows += chunk.shape[0];
    }
    this.vocabSize = rows;
    this.hiddenSize = chunks[0].shape[1]!;
  }

  /** Rows for int32 ids [n] → [n, hidden], differentiable w.r.t. every chunk (ScatterNd gradient, wasm-safe). */
  lookup(ids: tf.Tensor1D): tf.Tensor2D {
    if (this.chunks.length === 1) return gatherRows(this.chunks[0] as tf.Variable<tf.Rank.R2>, ids);
    return this.sumOverChunks(ids, (chunk, local) => gatherRows(chunk, local));
  }

  /** The same rows without gradient bookkeeping: the decoding path. */
  lookupNoGrad(ids: tf.Tensor1D): tf.Tensor2D {
    if (this.chunks.length === 1) return tf.gather(this.chunks[0], ids) as tf.Tensor2D;
    return this.sumOverChunks(ids, (chunk, local) => tf.gather<tf.Tensor2D>(chunk, local));
  }

  /** Σ over chunks of gather(chunk, clamp(id − start)) · [id in chunk]: exact, since other chunks add zeros. */
  private sumOverChunks(
    ids: tf.Tensor1D,
    gather: (chunk: tf.Tensor2D, local: tf.Tensor1D) => tf.Tensor2D,
  ): tf.Tensor2D {
    return tf.tidy(() => {
      let sum: tf.Tensor2D | null = null;
      for (const [i, chunk] of this.chunks.entries()) {
        const rows = chunk.shape[0];
        const local = tf.sub<tf.Tensor1D>(ids, tf.scalar(this.starts[i], "int32"));
        const inside = tf.logicalAnd(tf.greaterEqual(local, 0), tf.less(local, rows));
        // Not clipByValue: wasm's ClipByValue kernel only handles float32.
        const rowsOf = gather(
          chunk as tf.Tensor2D,
          tf.minimum<tf.Tensor1D>(tf.maximum(local, tf.scalar(0, "int32")), tf.scalar(rows - 1, "int32")),
        );
        const part = tf.mul<tf.Tensor2D>(rowsOf, tf.expandDims(tf.cast(inside, "float32"), 1));
        sum = sum === null ? part : tf.add<tf.Tensor2D>(sum, part);
      }
      return sum!;
    });
  }
}
