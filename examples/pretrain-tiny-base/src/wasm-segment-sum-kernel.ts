import * as tf from "@tensorflow/tfjs-core";

interface WasmBackendLike {
  readSync(dataId: object): tf.TypedArray;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}

/**
 * tfjs-backend-wasm has no UnsortedSegmentSum, the op of the embedding lookup's gradient, so full training of the
 * embeddings fails there. A plain-JS kernel (the sum is tiny next to the matmuls) fills the gap for this example.
 */
export function registerWasmUnsortedSegmentSum(): void {
  if (tf.getKernel("UnsortedSegmentSum", "wasm")) return;
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const wasm = backend as unknown as WasmBackendLike;
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const values = wasm.readSync(x.dataId) as Float32Array;
      const ids = wasm.readSync(segmentIds.dataId);
      const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
      const width = values.length / rows;
      const out = wasm.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
      const target = wasm.typedArrayFromHeap(out) as Float32Array;
      target.fill(0);
      for (let r = 0; r < rows; r++) {
        const segment = ids[r] as number;
        if (segment < 0 || segment >= numSegments) continue;
        const from = r * width;
        const to = segment * width;
        for (let k = 0; k < width; k++) target[to + k] = (target[to + k] as number) + (values[from + k] as number);
      }
      return out;
    },
  });
}
