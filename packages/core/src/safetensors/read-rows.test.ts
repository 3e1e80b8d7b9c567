import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SafetensorsError } from "../errors.js";
import { rawTensorView, tempDir } from "./raw-file.fixture.js";
import { openSafetensors } from "./reader.js";
import { writeSafetensors } from "./writer.js";

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ROWS = 5;
const COLS = 6;
const values = Float32Array.from({ length: ROWS * COLS }, (_, i) => (i - 11) * 0.37);

describe("SafetensorsReader.readFloat32Rows", () => {
  it.each(["F32", "F16", "BF16"] as const)(
    "%s: a row range gives those rows of readFloat32, into a reused buffer",
    async (dtype) => {
      const path = join(dir, `rows-${dtype}.safetensors`);
      // A small tensor first, so the big one's data does not start at the data section's first byte.
      await writeSafetensors(path, {
        a: { shape: [3], data: [1, 2, 3] },
        w: { shape: [ROWS, COLS], data: values, dtype },
      });
      expect(rawTensorView(await readFile(path), "w").dtype).toBe(dtype);
      const reader = await openSafetensors(path);
      try {
        const whole = await reader.readFloat32("w");
        const into = new Float32Array(2 * COLS);
        for (const start of [0, 1, 3]) {
          const got = await reader.readFloat32Rows("w", { start, end: start + 2, into });
          expect(got).toBe(into);
          expect([...got]).toEqual([...whole.subarray(start * COLS, (start + 2) * COLS)]);
        }
        expect([...(await reader.readFloat32Rows("w", { start: 4, end: 5 }))]).toEqual([...whole.subarray(4 * COLS)]);
        expect(await reader.readFloat32Rows("w", { start: 2, end: 2 })).toHaveLength(0);
      } finally {
        await reader.close();
      }
    },
  );

  it("names the file and tensor for a range outside the tensor or a buffer of the wrong size", async () => {
    const path = join(dir, "rows-bad.safetensors");
    await writeSafetensors(path, { w: { shape: [ROWS, COLS], data: values } });
    const reader = await openSafetensors(path);
    try {
      await expect(reader.readFloat32Rows("w", { start: 3, end: 6 })).rejects.toThrow(SafetensorsError);
      await expect(reader.readFloat32Rows("w", { start: 3, end: 6 })).rejects.toThrow(
        /rows-bad\.safetensors: tensor "w" \(shape \[5, 6\]\) has no rows 3\.\.6/,
      );
      await expect(reader.readFloat32Rows("w", { start: 2, end: 1 })).rejects.toThrow(/0 ≤ start ≤ end ≤ 5/);
      await expect(reader.readFloat32Rows("w", { start: 0, end: 2, into: new Float32Array(5) })).rejects.toThrow(
        /rows 0\.\.2 are 12 values, but the buffer given holds 5/,
      );
    } finally {
      await reader.close();
    }
  });
});
