import * as tf from "@tensorflow/tfjs-core";
import { LlamatsError } from "../errors.js";

/** A node of tfjs's gradient tape (tfjs-core's TapeNode, not exported). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: tf.NamedTensorMap;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The parts of tfjs-core's Engine the backward pass drives (all present in tfjs-core 4.x). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  /** tfjs types this as TensorContainer; an array holding nulls is kept the same way. */
  tidy<T>(name: string, f: () => T): T;
}

/** The nodes on a path from some x to y, each with only its inputs that depend on an x (tfjs's own filter). */
function nodesFromXToY(tape: TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((input) => fromX.has(input.id))) {
      nodesFromX.add(node.id);
      for (const output of node.outputs) fromX.add(output.id);
    }
  }
  const toY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (!node.outputs.some((output) => toY.has(output.id))) continue;
    nodesToY.add(node.id);
    for (const input of Object.values(node.inputs)) toY.add(input.id);
  }
  return tape
    .filter((node) => nodesFromX.has(node.id) && nodesToY.has(node.id))
    .map((node) => ({
      ...node,
      inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, input]) => fromX.has(input.id))),
    }));
}

/**
 * The gradients of y = f() with respect to `xs` (tf.engine().gradients' contract), freeing memory as the backward pass
 * goes, as PyTorch's autograd does: a node's saved tensors once its gradient is taken, and each intermediate gradient
 * once the node that consumes it is done. tfjs keeps both until the whole backward pass ends, so its peak holds every
 * layer's activations and every activation's gradient at once.
 */
export function frugalGradients(
  f: () => tf.Tensor,
  xs: readonly tf.Tensor[],
  dy?: tf.Tensor,
  allowNoGradients = false,
): { value: tf.Tensor; grads: (tf.Tensor | null)[] } {
  if (xs.length === 0) throw new LlamatsError("frugalGradients: no tensors to differentiate with respect to.");
  const engine = tf.engine() as unknown as EngineInternals;
  // Called from a gradient function (gradient checkpointing's recomputation), the enclosing backward pass still
  // walks this tape: it is put back at the end.
  const enclosingTape = engine.state.activeTape;
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy("forward", f),
  );
  if (!(y instanceof tf.Tensor)) throw new LlamatsError("frugalGradients: f() must return a tensor.");
  const tape = engine.state.activeTape ?? [];
  const outermost = engine.state.gradientDepth === 0;
  const path = nodesFromXToY(tape, xs, y);
  if (!allowNoGradients && path.length === 0)
    throw new LlamatsError("frugalGradients: y does not depend on any of xs (no operation leads from them to it).");
  const keep = new Set(xs.map((x) => x.id));
  const grads = engine.tidy("backward", () => {
    // The caller's dy stays the caller's: the map holds a handle of its own.
    const gradientOf = new Map<number, tf.Tensor>([[y.id, dy ? tf.clone(dy) : tf.ones(y.shape)]]);
    const held = new Set<tf.Tensor>(gradientOf.values());
    for (let i = path.length - 1; i >= 0; i--) {
      const node = path[i];
      const dys = node.outputs.map((output) => gradientOf.get(output.id) ?? null);
      if (!node.gradient)
        throw new LlamatsError(`Cannot compute a gradient: ${node.kernelName} has no gradient function.`);
      const inputGradients = node.gradient(dys);
      const mine = new Set([...dys, ...(node.saved ?? [])]);
      for (const [name, input] of Object.entries(node.inputs)) {
        if (!(name in inputGradients))
          throw new LlamatsError(
            `Cannot backprop through input ${name} of ${node.kernelName}: its gradient gives ${Object.keys(inputGradients).join(", ")}.`,
          );
        let dx = tf.tidy(() => inputGradients[name]());
        if (dx.dtype !== "float32" || !tf.util.arraysEqual(dx.shape, input.shape))
          throw new LlamatsError(
            `The gradient of ${node.kernelName}'s input ${name} is ${dx.dtype} [${dx.shape}]; expected float32 [${input.shape}].`,
          );
        // Every gradient held in the map is its own handle (a clone shares the data), so freeing one frees no other.
        if (held.has(dx) || mine.has(dx)) dx = tf.clone(dx);
        const current = gradientOf.get(input.id);
        if (current) {
          const sum = tf.add(current, dx);
          current.dispose();
          dx.dispose();
          held.delete(current);
          dx = sum;
        }
        gradientOf.set(input.id, dx);
        held.add(dx);
      }
      // This node's outputs are consumed: their gradients and its saved tensors are needed no more.
      for (const output of node.outputs) {
        const g = gradientOf.get(output.id);
        if (!g || keep.has(output.id)) continue;
        gradientOf.delete(output.id);
        held.delete(g);
        g.dispose();
      }
      for (const t of node.saved ?? []) t.dispose();
    }
    return xs.map((x) => gradientOf.get(x.id) ?? null);
  });
  if (outermost) {
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = enclosingTape;
  }
  return { value: y, grads };
}

/**
 * tf.variableGrads with frugalGradients' memory: the value of f and the gradient of each trainable variable in
 * `variables` that f depends on, by name.
 */
export function frugalVariableGrads(
  f: () => tf.Scalar,
  variables: readonly tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const trainable = variables.filter((v) => v.trainable);
  if (trainable.length === 0) throw new LlamatsError("frugalVariableGrads: none of the variables is trainable.");
  const { value, grads } = frugalGradients(f, trainable, undefined, true);
  const named: tf.NamedTensorMap = {};
  trainable.forEach((v, i) => {
    const g = grads[i];
    if (g) named[v.name] = g;
  });
  return { value: value as tf.Scalar, grads: named };
}
