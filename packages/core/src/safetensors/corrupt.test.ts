import { readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SafetensorsError } from "../errors.js";
import { MAX_HEADER_BYTES } from "./header.js";
import { openSafetensors } from "./reader.js";
import { writeSafetensors } from "./writer.js";
import { tempDir, writeRaw } from "./raw-file.fixture.js";

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Opens (and reads every tensor of) the file; returns the error it must fail with. */
async function failureOf(path: string): Promise<SafetensorsError> {
  try {
    const reader = await openSafetensors(path);
    try {
      for (const name of reader.names()) await reader.read(name);
    } finally {
      await reader.close();
    }
  } catch (error) {
    expect(SafetensorsError.isInstance(error), String(error)).toBe(true);
    return error as SafetensorsError;
  }
  throw new Error(`${path} opened without an error`);
}

const f32 = (n: number): Uint8Array => new Uint8Array(n * 4);

describe("corrupt safetensors files fail with a SafetensorsError naming the file (and tensor)", () => {
  it("a file shorter than the length prefix", async () => {
    const path = join(dir, "tiny.safetensors");
    await writeFile(path, new Uint8Array([1, 2, 3]));
    const error = await failureOf(path);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/too short/);
    expect(error.file).toBe(path);
  });

  it("a file truncated inside the data section", async () => {
    const path = join(dir, "truncated.safetensors");
    await writeSafetensors(path, {
      a: { shape: [4], data: new Float32Array(4) },
      b: { shape: [4], data: new Float32Array(4) },
    });
    const { size } = await stat(path);
    await truncate(path, size - 3);
    const error = await failureOf(path);
    expect(error.message).toContain(path);
    expect(error.message).toContain('"b"');
    expect(error.message).toMatch(/truncated/);
    expect(error.tensor).toBe("b");
  });

  it("a header length past the end of the file", async () => {
    const path = await writeRaw(dir, "long-header.safetensors", { header: "{}", headerLength: 1000n });
    const error = await failureOf(path);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/1000 bytes.*only 2/);
  });

  it("a header over the size cap", async () => {
    const path = await writeRaw(dir, "huge-header.safetensors", {
      header: "{}",
      headerLength: BigInt(MAX_HEADER_BYTES) + 1n,
    });
    const error = await failureOf(path);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/limit/);
  });

  it("a header that is not JSON", async () => {
    const path = await writeRaw(dir, "bad-json.safetensors", { header: '{"a": {"dtype": "F32",' });
    const error = await failureOf(path);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/not valid JSON/);
  });

  it("data offsets out of range", async () => {
    const path = await writeRaw(dir, "out-of-range.safetensors", {
      header: { w: { dtype: "F32", shape: [4], data_offsets: [16, 32] } },
      data: f32(4),
    });
    const error = await failureOf(path);
    expect(error.message).toContain(path);
    expect(error.message).toContain('"w"');
    expect(error.message).toMatch(/\[16, 32\].*past the end/);
    expect(error.tensor).toBe("w");
  });

  it("overlapping offsets", async () => {
    const path = await writeRaw(dir, "overlap.safetensors", {
      header: {
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
      },
      data: f32(3),
    });
    const error = await failureOf(path);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/"a".*"b".*overlap/);
  });

  it("an unknown dtype", async () => {
    const path = await writeRaw(dir, "dtype.safetensors", {
      header: { q: { dtype: "Q4", shape: [2], data_offsets: [0, 1] } },
      data: new Uint8Array(1),
    });
    const error = await failureOf(path);
    expect(error.message).toContain(path);
    expect(error.message).toContain('"q"');
    expect(error.message).toMatch(/unknown dtype "Q4"/);
    expect(error.tensor).toBe("q");
  });

  it("a byte span that does not match shape × dtype", async () => {
    const path = await writeRaw(dir, "span.safetensors", {
      header: { m: { dtype: "F32", shape: [2, 2], data_offsets: [0, 12] } },
      data: f32(3),
    });
    const error = await failureOf(path);
    expect(error.message).toContain(path);
    expect(error.message).toContain('"m"');
    expect(error.message).toMatch(/needs 16 bytes.*span 12/);
  });

  it("a shard index pointing to a missing shard", async () => {
    await writeSafetensors(join(dir, "ms-1.safetensors"), { a: { shape: [1], data: [1] } });
    const index = join(dir, "missing.safetensors.index.json");
    await writeFile(
      index,
      JSON.stringify({ metadata: {}, weight_map: { a: "ms-1.safetensors", b: "ms-2.safetensors" } }),
    );
    const error = await failureOf(index);
    expect(error.message).toContain(index);
    expect(error.message).toContain(join(dir, "ms-2.safetensors"));
    expect(error.message).toContain('"b"');
    expect(error.tensor).toBe("b");
  });

  it("a shard index pointing to a shard without the tensor", async () => {
    await writeSafetensors(join(dir, "wrong-1.safetensors"), { a: { shape: [1], data: [1] } });
    await writeSafetensors(join(dir, "wrong-2.safetensors"), { c: { shape: [1], data: [3] } });
    const index = join(dir, "wrong.safetensors.index.json");
    await writeFile(index, JSON.stringify({ weight_map: { a: "wrong-1.safetensors", b: "wrong-2.safetensors" } }));
    const error = await failureOf(index);
    expect(error.message).toContain(join(dir, "wrong-2.safetensors"));
    expect(error.message).toContain('"b"');
    expect(error.tensor).toBe("b");
  });

  it("a shard index that is not JSON", async () => {
    const index = join(dir, "broken.safetensors.index.json");
    await writeFile(index, '{"weight_map": ');
    const error = await failureOf(index);
    expect(error.message).toContain(index);
  });

  it("asking for a tensor the file does not have", async () => {
    const path = join(dir, "ok.safetensors");
    await writeSafetensors(path, { a: { shape: [1], data: [1] } });
    const reader = await openSafetensors(path);
    await expect(reader.read("zzz")).rejects.toThrow(`${path}: no tensor named "zzz"`);
    expect(() => reader.info("zzz")).toThrow(SafetensorsError);
    await reader.close();
    expect((await readFile(path)).byteLength).toBeGreaterThan(8);
  });
});
