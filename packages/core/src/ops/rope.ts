import * as tf from "@tensorflow/tfjs-core";
import { ShapeMismatchError } from "../errors.js";
import { headDims, headLayout, type HeadLayout } from "./head-layout.js";
import { hasLlamatsKernel } from "./registry.js";
import { ROPE, ROPE_CONSTANT_TABLES } from "./rope.kernels.js";

export interface RopeOptions {
  /** x's layout: "bhsd" [batch, heads, seq, headDim] (default) or "bshd" [batch, seq, heads, headDim]. */
  layout?: HeadLayout;
  /** cos and sin are constants (a model's tables): the backward pass then keeps only them, not x. */
  constantTables?: boolean;
}

/** cos/sin tables as [1 or batch, seq, dim]: any leading dims (HF's [batch, 1, seq, dim] included) multiply to 1 or batch. */
function tableShape(x: tf.Tensor4D, layout: HeadLayout, table: tf.Tensor, name: string): [number, number, number] {
  const { batch, seq, dim } = headDims(x.shape, layout);
  const lead = table.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fits =
    table.rank >= 2 &&
    table.shape[table.rank - 2] === seq &&
    table.shape[table.rank - 1] === dim &&
    (lead === 1 || lead === batch);
  if (!fits || table.dtype !== "float32") {
    throw new ShapeMismatchError(
      `rope: ${name} must be float32 [${batch} or 1, ${seq}, ${dim}] (or [batch, 1, seq, dim]) for x [${x.shape}], found ${table.dtype} [${table.shape}].`,
      {
        tensor: name,
        expected: [batch, seq, dim],
        found: table.shape,
      },
    );
  }
  return [lead, seq, dim];
}

/**
 * HF's rotary embedding (apply_rotary_pos_emb, rotate-half layout): x · cos + rotate_half(x) · sin for q or k
 * [batch, heads, seq, headDim], or [batch, seq, heads, headDim] with layout "bshd" (a projection reshaped, no
 * transpose). One llamats kernel on cpu, wasm and webgpu; the gradient for x is the inverse rotation, one more.
 */
export function rope(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor, options: RopeOptions = {}): tf.Tensor4D {
  const layout = headLayout(options.layout, "rope");
  if (x.rank !== 4 || x.dtype !== "float32" || x.shape[3] % 2 !== 0) {
    const axes = layout === "bshd" ? "[batch, seq, heads, headDim]" : "[batch, heads, seq, headDim]";
    throw new ShapeMismatchError(
      `rope: x must be float32 ${axes} with an even headDim, found ${x.dtype} [${x.shape}].`,
      { tensor: "x", found: x.shape },
    );
  }
  const shape = tableShape(x, layout, cos, "cos");
  tableShape(x, layout, sin, "sin");
  if (!hasLlamatsKernel(ROPE)) return ropeReference(x, cos, sin, options);
  return tf.tidy(() =>
    tf
      .engine()
      .runKernel<tf.Tensor4D>(
        options.constantTables ? ROPE_CONSTANT_TABLES : ROPE,
        { x, cosTable: tf.reshape(cos, shape), sinTable: tf.reshape(sin, shape) },
        { layout },
      ),
  );
}

/** The same from plain tfjs ops: the fallback on backends without llamats kernels, and the tests' reference. */
export function ropeReference(x: tf.Tensor4D, cos: tf.Tensor, sin: tf.Tensor, options: RopeOptions = {}): tf.Tensor4D {
  const layout = headLayout(options.layout, "rope");
  return tf.tidy(() => {
    const half = x.shape[3] / 2;
    const [first, second] = tf.split(x, [half, half], -1);
    const rotated = tf.concat([tf.neg(second), first], -1);
    const { batch, seq, dim } = headDims(x.shape, layout);
    // The tables broadcast over the heads axis, wherever the layout puts it.
    const table = (t: tf.Tensor) => {
      const lead = t.size === seq * dim ? 1 : batch;
      return tf.reshape(t, layout === "bshd" ? [lead, seq, 1, dim] : [lead, 1, seq, dim]);
    };
    return tf.add<tf.Tensor4D>(tf.mul(x, table(cos)), tf.mul(rotated, table(sin)));
  });
}
