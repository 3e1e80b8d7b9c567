import * as tf from "@tensorflow/tfjs-core";
import { wasmKernelsInstalled } from "../kernels/install-kernels.js";
import { WasmKernels } from "../kernels/wasm-kernels.js";
import { headDims, headLayout, headStrides, type HeadLayout } from "./head-layout.js";
import { cpuKernelFunc, wasmKernelFunc, type HostKernel, type WasmBackendLike } from "./host-kernel.js";
import type { KernelArgs, LlamatsOp } from "./kernel-types.js";
import { webgpuRope, webgpuRopeGrad } from "./rope.webgpu.js";

/**
 * x [batch, heads, seq, dim] (or [batch, seq, heads, dim] with attrs.layout "bshd"), cosTable and sinTable
 * [1 or batch, seq, dim] → x · cos + rotate_half(x) · sin, in x's layout.
 */
export const ROPE = "LlamatsRope";
/**
 * The same rotation with constant tables (a model's cos/sin): the same kernels, but the backward pass keeps only the
 * tables, not x (x is needed only for the tables' own gradients).
 */
export const ROPE_CONSTANT_TABLES = "LlamatsRopeConstantTables";
/** dy, cosTable, sinTable → dx: the transposed rotation, dy · cos + rotate_half_ᵀ(dy · sin); attrs { layout } as ROPE. */
export const ROPE_GRAD = "LlamatsRopeGrad";

/**
 * HF's rotate-half rotary embedding: the two halves (a, b) of every vector become (a·cos − b·sin, b·cos + a·sin),
 * with cos/sin read per position (and per batch row when the tables have one). `transposed` runs the gradient:
 * (a, b) → (a·cos + b·sin', b·cos' − a·sin), reading sin at the partner's column.
 */
function ropeVectors(
  x: Float32Array,
  cos: Float32Array,
  sin: Float32Array,
  out: Float32Array,
  shape: readonly number[],
  layout: HeadLayout,
  tableBatch: number,
  transposed: boolean,
): void {
  const dims = headDims(shape, layout);
  const { batch, heads, seq, dim } = dims;
  const stride = headStrides(dims, layout);
  const half = dim / 2;
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let s = 0; s < seq; s++) {
        const v = b * heads * seq * dim + h * stride.head + s * stride.seq;
        const t = ((tableBatch === 1 ? 0 : b) * seq + s) * dim;
        for (let i = 0; i < half; i++) {
          const a = x[v + i];
          const c = x[v + i + half];
          if (transposed) {
            out[v + i] = a * cos[t + i] + c * sin[t + i + half];
            out[v + i + half] = c * cos[t + i + half] - a * sin[t + i];
          } else {
            out[v + i] = a * cos[t + i] - c * sin[t + i];
            out[v + i + half] = c * cos[t + i + half] + a * sin[t + i + half];
          }
        }
      }
    }
  }
}

function host(input: "x" | "dy", transposed: boolean): HostKernel {
  return {
    inputs: [input, "cosTable", "sinTable"],
    outputShapes: (infos) => [[...infos[input].shape]],
    run: (views, [out], infos, attrs) =>
      ropeVectors(
        views[input] as Float32Array,
        views.cosTable as Float32Array,
        views.sinTable as Float32Array,
        out,
        infos[input].shape,
        headLayout(attrs.layout, "rope"),
        infos.cosTable.shape[0],
        transposed,
      ),
  };
}

/** On wasm: llamats' SIMD kernel (vectors split over the kernel threads) when installed, else the JS loop over the heap. */
function wasmRope(name: string, input: "x" | "dy", transposed: boolean): tf.KernelFunc {
  const plain = wasmKernelFunc(name, host(input, transposed));
  return (args: KernelArgs) => {
    const kernels = wasmKernelsInstalled() ? WasmKernels.get() : null;
    const x = args.inputs[input]!;
    const { cosTable, sinTable } = args.inputs as { cosTable: tf.TensorInfo; sinTable: tf.TensorInfo };
    const layout = headLayout(args.attrs?.layout, "rope");
    const { batch, heads, seq, dim: d } = headDims(x.shape, layout);
    if (!kernels || batch * heads * seq * d === 0) return plain(args as never);
    const out = (args.backend as WasmBackendLike).makeOutput([...x.shape], "float32");
    kernels.ropeRotate({
      x: kernels.offsetOf(x),
      cos: kernels.offsetOf(cosTable),
      sin: kernels.offsetOf(sinTable),
      out: kernels.offsetOf(out),
      batch,
      heads,
      seq,
      d,
      tableBatch: cosTable.shape[0],
      headsInner: layout === "bshd",
      transposed,
    });
    return out;
  };
}

/** rotate_half(x) = [−x₂, x₁] from tfjs ops, for the tables' gradients. */
function rotateHalf(x: tf.Tensor): tf.Tensor {
  const half = x.shape[x.rank - 1] / 2;
  const [first, second] = tf.split(x, [half, half], -1);
  return tf.concat([tf.neg(second), first], -1);
}

/** Summed over heads (and over batch when the tables are shared): back to the tables' [1 or batch, seq, dim]. */
function toTable(t: tf.Tensor, tableBatch: number, headsAxis: number): tf.Tensor {
  const perBatch = tf.sum(t, headsAxis);
  return tableBatch === 1 ? tf.sum(perBatch, 0, true) : perBatch;
}

/** dx is one kernel; the tables (constants in a model) get theirs from tfjs ops, only when asked for. */
const gradient: tf.GradConfig = {
  kernelName: ROPE,
  inputsToSave: ["x", "cosTable", "sinTable"],
  gradFunc: (dy, saved, attrs) => {
    const [x, cosTable, sinTable] = saved;
    const g = dy as tf.Tensor;
    const headsAxis = headLayout(attrs.layout, "rope") === "bshd" ? 2 : 1;
    return {
      x: () => tf.engine().runKernel<tf.Tensor>(ROPE_GRAD, { dy: g, cosTable, sinTable }, attrs),
      cosTable: () => toTable(tf.mul(g, x), cosTable.shape[0], headsAxis),
      sinTable: () => toTable(tf.mul(g, rotateHalf(x)), sinTable.shape[0], headsAxis),
    };
  },
};

/** Tables constant: dx alone, from the tables. */
const constantTablesGradient: tf.GradConfig = {
  kernelName: ROPE_CONSTANT_TABLES,
  inputsToSave: ["cosTable", "sinTable"],
  gradFunc: (dy, saved, attrs) => {
    const [cosTable, sinTable] = saved;
    return {
      x: () => tf.engine().runKernel<tf.Tensor>(ROPE_GRAD, { dy: dy as tf.Tensor, cosTable, sinTable }, attrs),
    };
  },
};

export const ropeOp: LlamatsOp = {
  kernels: [
    {
      name: ROPE,
      cpu: cpuKernelFunc(ROPE, host("x", false)),
      wasm: wasmRope(ROPE, "x", false),
      webgpu: webgpuRope,
    },
    {
      name: ROPE_CONSTANT_TABLES,
      cpu: cpuKernelFunc(ROPE_CONSTANT_TABLES, host("x", false)),
      wasm: wasmRope(ROPE_CONSTANT_TABLES, "x", false),
      webgpu: webgpuRope,
    },
    {
      name: ROPE_GRAD,
      cpu: cpuKernelFunc(ROPE_GRAD, host("dy", true)),
      wasm: wasmRope(ROPE_GRAD, "dy", true),
      webgpu: webgpuRopeGrad,
    },
  ],
  gradients: [gradient, constantTablesGradient],
};
