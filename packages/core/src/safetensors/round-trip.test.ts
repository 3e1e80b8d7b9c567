import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSafetensors } from "./reader.js";
import { writeSafetensors } from "./writer.js";
import { rawTensorView, tempDir } from "./raw-file.fixture.js";

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function u16s(view: DataView): number[] {
  return Array.from({ length: view.byteLength / 2 }, (_, i) => view.getUint16(i * 2, true));
}

function f32FromBits(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits >>> 0, true);
  return view.getFloat32(0, true);
}

describe("safetensors round trip", () => {
  it("keeps F32 values, shapes, I32, I64 and metadata exactly", async () => {
    const path = join(dir, "mixed.safetensors");
    const f32 = new Float32Array([
      0,
      -0,
      1.5,
      -2.25,
      3.4028234663852886e38,
      1e-45,
      Number.POSITIVE_INFINITY,
      Number.NaN,
    ]);
    const i32 = new Int32Array([0, -1, 2147483647, -2147483648, 7, 8]);
    const i64 = new BigInt64Array([0n, -1n, 9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n]);
    await writeSafetensors(
      path,
      {
        w: { shape: [2, 4], data: f32 },
        ids: { shape: [3, 2], data: i32 },
        big: { shape: [5], data: i64 },
        empty: { shape: [0, 3], data: new Float32Array(0) },
      },
      { metadata: { format: "pt", note: "héllo" } },
    );
    const reader = await openSafetensors(path);
    try {
      expect(reader.metadata).toEqual({ format: "pt", note: "héllo" });
      expect(reader.names().sort()).toEqual(["big", "empty", "ids", "w"]);
      expect(reader.info("w")).toEqual({ dtype: "F32", shape: [2, 4], file: path });
      expect(reader.info("ids").dtype).toBe("I32");
      expect(reader.info("big").dtype).toBe("I64");
      expect(Array.from(await reader.readFloat32("w"))).toEqual(Array.from(f32));
      const ids = await reader.read("ids");
      expect(ids.data).toBeInstanceOf(Int32Array);
      expect(Array.from(ids.data as Int32Array)).toEqual(Array.from(i32));
      const big = await reader.read("big");
      expect(big.data).toBeInstanceOf(BigInt64Array);
      expect(Array.from(big.data as BigInt64Array)).toEqual(Array.from(i64));
      expect((await reader.read("empty")).shape).toEqual([0, 3]);
    } finally {
      await reader.close();
    }
    // The data section starts 8-byte aligned, as the reference writer leaves it.
    const bytes = await readFile(path);
    expect((8 + Number(bytes.readBigUInt64LE(0))) % 8).toBe(0);
  });

  it("accepts plain number arrays as F32", async () => {
    const path = join(dir, "plain.safetensors");
    await writeSafetensors(path, { x: { shape: [3], data: [1, 2, 3.5] } });
    const reader = await openSafetensors(path);
    expect(Array.from(await reader.readFloat32("x"))).toEqual([1, 2, 3.5]);
    await reader.close();
  });

  it("stores F16 rounded to nearest even and reads it back exactly", async () => {
    const path = join(dir, "f16.safetensors");
    const values = [
      1,
      1 / 3,
      65504,
      65520,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -25,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      -2,
      Number.NEGATIVE_INFINITY,
    ];
    // Expected IEEE half bits, worked out by hand: ties go to the even mantissa.
    const expectedBits = [0x3c00, 0x3555, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x0002, 0x3c00, 0x3c02, 0xc000, 0xfc00];
    await writeSafetensors(path, { h: { shape: [values.length], data: new Float32Array(values), dtype: "F16" } });
    const raw = rawTensorView(await readFile(path), "h");
    expect(raw.dtype).toBe("F16");
    expect(u16s(raw.view)).toEqual(expectedBits);
    const reader = await openSafetensors(path);
    const back = Array.from(await reader.readFloat32("h"));
    await reader.close();
    expect(back).toEqual([1, 0.333251953125, 65504, Infinity, 2 ** -24, 0, 2 ** -23, 1, 1 + 2 ** -9, -2, -Infinity]);
  });

  it("stores BF16 rounded to nearest even (as torch) and reads it back exactly", async () => {
    const path = join(dir, "bf16.safetensors");
    const bits = [0x3f800000, 0x3f808000, 0x3f818000, 0x3f808001, 0xbf7fffff, 0x7f7fffff, 0x7f800000];
    const values = bits.map(f32FromBits).concat([Number.NaN]);
    const expectedBits = [0x3f80, 0x3f80, 0x3f82, 0x3f81, 0xbf80, 0x7f80, 0x7f80, 0x7fc0];
    await writeSafetensors(path, { b: { shape: [values.length], data: new Float32Array(values), dtype: "BF16" } });
    const raw = rawTensorView(await readFile(path), "b");
    expect(raw.dtype).toBe("BF16");
    expect(u16s(raw.view)).toEqual(expectedBits);
    const reader = await openSafetensors(path);
    const back = Array.from(await reader.readFloat32("b"));
    await reader.close();
    expect(back.slice(0, 7)).toEqual(expectedBits.slice(0, 7).map((b) => f32FromBits(b << 16)));
    expect(back[7]).toBeNaN();
  });

  it("refuses a tensor named __metadata__", async () => {
    await expect(
      writeSafetensors(join(dir, "meta.safetensors"), { __metadata__: { shape: [1], data: [1] } }),
    ).rejects.toThrow(/reserved/);
  });

  it("rejects data whose length does not match the shape, naming the tensor", async () => {
    await expect(
      writeSafetensors(join(dir, "bad.safetensors"), { t: { shape: [2, 3], data: new Float32Array(5) } }),
    ).rejects.toThrow(/tensor "t".*\[2, 3\].*6 values.*5/);
  });
});
