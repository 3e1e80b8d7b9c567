import { describe, expect, it } from "vitest";
import {
  attentionBackward,
  attentionDims,
  attentionForward,
  scratchFloats,
  type AttentionDims,
} from "./attention.host.js";
import { JS_MATH, type Buf } from "./host-math.js";
import { maxScaledDiff, randomValues } from "./test-support.js";

const buf = (array: Float32Array): Buf => ({ array, offset: 0 });

/** Forward output and dq, dk, dv of the host loops, with the scores held `chunkFloats` at a time. */
function run(dims: AttentionDims, chunkFloats: number | undefined): Float32Array[] {
  const { batch, heads, kvHeads, sq, sk, d } = dims;
  const q = randomValues(batch * heads * sq * d, 1, 2);
  const k = randomValues(batch * kvHeads * sk * d, 2, 2);
  const v = randomValues(batch * kvHeads * sk * d, 3);
  const mask = randomValues(batch * sq * sk, 4, 3);
  const dy = randomValues(q.length, 5);
  const sized = { ...dims, chunkFloats };
  const bufs = { q: buf(q), k: buf(k), v: buf(v), mask: buf(mask) };
  const o = new Float32Array(q.length);
  attentionForward(bufs, buf(o), sized, JS_MATH, buf(new Float32Array(scratchFloats(sized, "forward"))));
  const [dq, dk, dv] = [q.length, k.length, v.length].map((n) => new Float32Array(n));
  attentionBackward(
    { ...bufs, o: buf(o), dy: buf(dy) },
    { dq: buf(dq), dk: buf(dk), dv: buf(dv) },
    sized,
    JS_MATH,
    buf(new Float32Array(scratchFloats(sized, "backward"))),
  );
  return [o, dq, dk, dv];
}

describe("attention host loops", () => {
  it("give the same result a chunk of (batch, kv head) pairs at a time as all at once (GQA, per-batch mask)", () => {
    const dims = attentionDims([3, 4, 5, 6], [3, 2, 7, 6], [3, 1, 5, 7], 0.4);
    const whole = run(dims, undefined);
    // 2 · 5 query rows × 7 keys = 70 floats a pair: 100 holds one pair, so 6 chunks.
    const chunked = run(dims, 100);
    whole.forEach((w, i) => expect(maxScaledDiff(chunked[i], w), ["o", "dq", "dk", "dv"][i]).toBe(0));
  });
});
