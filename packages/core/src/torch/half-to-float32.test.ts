import { describe, expect, it } from "vitest";
import { halfToFloat } from "../safetensors/dtypes.js";
import { halfBytesToFloat32 } from "./half-to-float32.js";

describe("halfBytesToFloat32", () => {
  it("decodes every float16 bit pattern as halfToFloat does, from aligned and unaligned bytes", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const bytes = new Uint8Array(all.buffer);
    const unaligned = new Uint8Array(bytes.byteLength + 1).fill(0xaa);
    unaligned.set(bytes, 1);
    for (const got of [halfBytesToFloat32(bytes), halfBytesToFloat32(unaligned.subarray(1))]) {
      let mismatches = 0;
      for (let h = 0; h < 65536; h++) if (!Object.is(got[h], Math.fround(halfToFloat(h)))) mismatches++;
      expect(mismatches).toBe(0);
    }
  });
});
