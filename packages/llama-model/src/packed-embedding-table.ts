import type * as tf from "@tensorflow/tfjs-core";
import { unpackWeightRows, type PackedWeight } from "@llamats/core";
import type { TokenEmbedding } from "./embedding-table.js";

/**
 * The token embedding held packed (bf16 or int8, as llama.cpp keeps token_embd): a lookup gathers the ids' packed
 * rows and unpacks only those, so the float32 table never exists. Frozen: the rows carry no gradient to the table.
 * With tied embeddings the same packed weight is the output head (a PackedLinear).
 */
export class PackedEmbeddingTable implements TokenEmbedding {
  readonly vocabSize: number;
  readonly hiddenSize: number;

  constructor(readonly packed: PackedWeight) {
    this.vocabSize = packed.outFeatures;
    this.hiddenSize = packed.inFeatures;
  }

  /** Rows for int32 ids [n] → [n, hidden] float32, exactly the reference dequantizer's values. */
  lookup(ids: tf.Tensor1D): tf.Tensor2D {
    return unpackWeightRows(this.packed, ids);
  }

  lookupNoGrad(ids: tf.Tensor1D): tf.Tensor2D {
    return this.lookup(ids);
  }
}
