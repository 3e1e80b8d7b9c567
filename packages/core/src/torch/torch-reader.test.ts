import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FormatError, LlamatsError, SafetensorsError } from "../errors.js";
import { floatToHalf } from "../safetensors/dtypes.js";
import { openTorchCheckpoint } from "./torch-reader.js";
import { stateDictPickle, torchCheckpoint, type FixtureTensor, type ZipOptions } from "./torch-zip.fixture.js";
import { UnsafePickleError } from "./unsafe-pickle-error.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llamats-torch-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

async function failure(path: string): Promise<Error> {
  try {
    await (await openTorchCheckpoint(path)).close();
  } catch (error) {
    expect(LlamatsError.isInstance(error)).toBe(true);
    return error as Error;
  }
  throw new Error("expected opening to fail");
}

const f32 = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
const range = (n: number, scale = 1): number[] => Array.from({ length: n }, (_, i) => (i - n / 3) * scale);

// One fused 6x4 storage (a qkv-like block), viewed as rows 0-1 and rows 2-5, whole, transposed and every other column.
const SHARED = range(24, 0.25);
const SHARED_TENSORS: FixtureTensor[] = [
  { name: "q.weight", storageType: "FloatStorage", key: "0", storageNumel: 24, shape: [2, 4] },
  { name: "kv.weight", storageType: "FloatStorage", key: "0", storageNumel: 24, offset: 8, shape: [4, 4] },
  { name: "tied.weight", storageType: "FloatStorage", key: "0", storageNumel: 24, shape: [6, 4], parameter: true },
  { name: "transposed", storageType: "FloatStorage", key: "0", storageNumel: 24, shape: [4, 6], stride: [1, 4] },
  {
    name: "odd.columns",
    storageType: "FloatStorage",
    key: "0",
    storageNumel: 24,
    offset: 1,
    shape: [6, 2],
    stride: [4, 2],
  },
  {
    name: "expanded",
    storageType: "FloatStorage",
    key: "0",
    storageNumel: 24,
    offset: 4,
    shape: [3, 4],
    stride: [0, 1],
  },
  { name: "scalar", storageType: "FloatStorage", key: "1", storageNumel: 1, shape: [] },
  { name: "empty", storageType: "FloatStorage", key: "2", storageNumel: 0, shape: [0, 4] },
];

function expectedShared(): Record<string, number[]> {
  const at = (r: number, c: number): number => SHARED[r * 4 + c];
  const rows = (from: number, to: number): number[] => SHARED.slice(from * 4, to * 4);
  const transposed: number[] = [];
  for (let c = 0; c < 4; c++) for (let r = 0; r < 6; r++) transposed.push(at(r, c));
  const odd: number[] = [];
  for (let r = 0; r < 6; r++) odd.push(at(r, 1), at(r, 3));
  const expanded = [...rows(1, 2), ...rows(1, 2), ...rows(1, 2)];
  return {
    "q.weight": rows(0, 2),
    "kv.weight": rows(2, 6),
    "tied.weight": SHARED,
    transposed,
    "odd.columns": odd,
    expanded,
    scalar: [7.5],
    empty: [],
  };
}

describe("openTorchCheckpoint", () => {
  it.each<[string, ZipOptions]>([
    ["stored, 64-byte aligned (torch.save)", { align: 64 }],
    ["stored, unaligned", {}],
    ["deflated", { deflate: true }],
    ["zip64", { zip64: true, align: 64 }],
  ])("reads views into shared storages: offsets, strides, parameters (%s)", async (label, zip) => {
    const pickle = stateDictPickle(SHARED_TENSORS, { metadata: true });
    const path = await write(
      `shared-${label.replace(/\W+/g, "-")}.bin`,
      torchCheckpoint("archive", pickle, { 0: f32(SHARED), 1: f32([7.5]), 2: f32([]) }, zip),
    );
    const reader = await openTorchCheckpoint(path);
    expect(reader.names()).toEqual(SHARED_TENSORS.map((t) => t.name));
    for (const [name, values] of Object.entries(expectedShared())) {
      expect([...(await reader.readFloat32(name))], name).toEqual(values);
      // A row range reads as the same rows of the whole tensor (contiguous views read only those rows).
      const shape = SHARED_TENSORS.find((t) => t.name === name)!.shape;
      if (shape.length > 0 && shape[0] > 1) {
        const rowSize = values.length / shape[0];
        const into = new Float32Array((shape[0] - 2) * rowSize);
        expect([...(await reader.readFloat32Rows(name, { start: 1, end: shape[0] - 1, into }))], name).toEqual(
          values.slice(rowSize, (shape[0] - 1) * rowSize),
        );
      }
      expect(reader.info(name)).toEqual({
        dtype: "F32",
        shape: SHARED_TENSORS.find((t) => t.name === name)!.shape,
        file: path,
      });
    }
    await reader.close();
  });

  it("reads float16, bfloat16, int64 and bool storages; the folder name is taken from the archive", async () => {
    const half = [0.5, -2, 65504, 2 ** -24];
    const bf16 = [1, -0.375, 2 ** 100, 1.5];
    const ints = [-1n, 2n ** 40n, 0n];
    const bf16Bytes = new Uint8Array(
      Uint16Array.from(bf16.map((v) => new Uint32Array(Float32Array.from([v]).buffer)[0] >>> 16)).buffer,
    );
    const pickle = stateDictPickle([
      { name: "h", storageType: "HalfStorage", key: "a", storageNumel: 4, shape: [2, 2] },
      { name: "b", storageType: "BFloat16Storage", key: "b", storageNumel: 4, shape: [4] },
      { name: "i", storageType: "LongStorage", key: "c", storageNumel: 3, shape: [3] },
      { name: "m", storageType: "BoolStorage", key: "d", storageNumel: 2, shape: [2] },
    ]);
    const path = await write(
      "dtypes.bin",
      torchCheckpoint(
        "pytorch_model-00001-of-00009",
        pickle,
        {
          a: new Uint8Array(Uint16Array.from(half.map(floatToHalf)).buffer),
          b: bf16Bytes,
          c: new Uint8Array(BigInt64Array.from(ints).buffer),
          d: Uint8Array.from([1, 0]),
        },
        { align: 64 },
      ),
    );
    const reader = await openTorchCheckpoint(path);
    expect(reader.info("h").dtype).toBe("F16");
    expect([...(await reader.readFloat32("h"))]).toEqual(half);
    expect(reader.info("b").dtype).toBe("BF16");
    expect([...(await reader.readFloat32("b"))]).toEqual(bf16);
    const longs = await reader.read("i");
    expect(longs.dtype).toBe("I64");
    expect([...(longs.data as BigInt64Array)]).toEqual(ints);
    expect([...(await reader.read("m")).data]).toEqual([1, 0]);
    await reader.close();
  });

  it("reads a sharded pytorch_model.bin.index.json, and names a missing shard or a misplaced tensor", async () => {
    const shard = (name: string, value: number): Uint8Array =>
      torchCheckpoint(
        name,
        stateDictPickle([{ name, storageType: "FloatStorage", key: "0", storageNumel: 2, shape: [2] }]),
        { 0: f32([value, -value]) },
      );
    await write("a.bin", shard("a", 1));
    await write("b.bin", shard("b", 2));
    const index = await write(
      "pytorch_model.bin.index.json",
      new TextEncoder().encode(
        JSON.stringify({ metadata: { total_size: 16 }, weight_map: { a: "a.bin", b: "b.bin" } }),
      ),
    );
    const reader = await openTorchCheckpoint(index);
    expect(reader.metadata).toEqual({ total_size: "16" });
    expect([...(await reader.readFloat32("b"))]).toEqual([2, -2]);
    expect(reader.info("a").file).toBe(join(dir, "a.bin"));
    await reader.close();

    const missing = await write(
      "missing.index.json",
      new TextEncoder().encode(JSON.stringify({ weight_map: { a: "a.bin", c: "c.bin" } })),
    );
    const error = await failure(missing);
    expect(SafetensorsError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/c\.bin \(holding "c"\) is missing/);
    const wrong = await write(
      "wrong.index.json",
      new TextEncoder().encode(JSON.stringify({ weight_map: { b: "a.bin" } })),
    );
    expect((await failure(wrong)).message).toMatch(/maps tensor "b" to .*a\.bin, which does not hold it/);
  });

  it("refuses a hostile data.pkl inside a checkpoint, naming the file and the global", async () => {
    const pickle = Uint8Array.from([
      0x80,
      0x02,
      ...Buffer.from("cposix\nsystem\n"),
      0x58,
      2,
      0,
      0,
      0,
      ...Buffer.from("id"),
      0x85,
      0x52,
      0x2e,
    ]);
    const path = await write("evil.bin", torchCheckpoint("archive", pickle, {}, { align: 64 }));
    const error = await failure(path);
    expect(UnsafePickleError.isInstance(error)).toBe(true);
    expect((error as UnsafePickleError).file).toBe(path);
    expect((error as UnsafePickleError).global).toBe("posix.system");
    expect(error.message).toContain(`${path} (archive/data.pkl): refused to unpickle global "posix.system"`);
  });

  it("explains legacy (pre-1.6) checkpoints, LFS pointers and other files", async () => {
    // torch.save(..., _use_new_zipfile_serialization=False) opens with a protocol-2 pickle of its magic number.
    const legacy = await write(
      "legacy.bin",
      Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]),
    );
    const error = await failure(legacy);
    expect(FormatError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/legacy \(pre-1\.6, non-zip\) PyTorch checkpoint/);
    expect(error.message).toContain("torch.save(torch.load(");
    expect(error.message).toContain("safetensors");
    const lfs = await write(
      "lfs.bin",
      new TextEncoder().encode("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n"),
    );
    expect((await failure(lfs)).message).toMatch(/Git LFS pointer/);
    const other = await write("other.bin", new TextEncoder().encode('{"not": "a checkpoint"}'));
    expect((await failure(other)).message).toMatch(/not a PyTorch zip checkpoint .*found "7b 22 6e 6f/);
  });

  it("names corrupt archives: truncation, wrong storage size, a view past its storage, a huge stride-0 view, big-endian, no data.pkl", async () => {
    const good = torchCheckpoint(
      "archive",
      stateDictPickle([{ name: "w", storageType: "FloatStorage", key: "0", storageNumel: 4, shape: [4] }]),
      { 0: f32([1, 2, 3, 4]) },
    );
    expect((await failure(await write("truncated.bin", good.subarray(0, good.byteLength - 30)))).message).toMatch(
      /no zip end-of-central-directory/,
    );
    const short = torchCheckpoint(
      "archive",
      stateDictPickle([{ name: "w", storageType: "FloatStorage", key: "0", storageNumel: 4, shape: [4] }]),
      { 0: f32([1, 2, 3]) },
    );
    const shortError = await failure(await write("short.bin", short));
    expect(shortError.message).toMatch(
      /storage archive\/data\/0 of tensor "w" should hold 4 F32 elements \(16 bytes\), found 12 bytes/,
    );
    expect((shortError as SafetensorsError).tensor).toBe("w");
    const past = torchCheckpoint(
      "archive",
      stateDictPickle([{ name: "w", storageType: "FloatStorage", key: "0", storageNumel: 4, offset: 2, shape: [4] }]),
      { 0: f32([1, 2, 3, 4]) },
    );
    expect((await failure(await write("past.bin", past))).message).toMatch(
      /tensor "w" .* reaches element 6 of a storage of 4/,
    );
    const huge = torchCheckpoint(
      "archive",
      stateDictPickle([
        {
          name: "w",
          storageType: "FloatStorage",
          key: "0",
          storageNumel: 1,
          shape: [2 ** 20, 2 ** 20],
          stride: [0, 0],
        },
      ]),
      { 0: f32([1]) },
    );
    const hugeReader = await openTorchCheckpoint(await write("huge.bin", huge));
    await expect(hugeReader.readFloat32("w")).rejects.toThrow(
      /tensor "w" \(shape \[1048576, 1048576\]\) is too large for one typed array/,
    );
    await hugeReader.close();
    const big = torchCheckpoint(
      "archive",
      stateDictPickle([{ name: "w", storageType: "FloatStorage", key: "0", storageNumel: 1, shape: [1] }]),
      { 0: f32([1]) },
      { byteorder: "big" },
    );
    expect((await failure(await write("big.bin", big))).message).toMatch(
      /archive\/byteorder says "big"; only little-endian/,
    );
    const nothing = torchCheckpoint("archive", stateDictPickle([]), {});
    const renamed = Buffer.from(nothing).toString("latin1").replaceAll("archive/data.pkl", "archive/xxxx.pkl");
    expect((await failure(await write("nopkl.bin", Buffer.from(renamed, "latin1")))).message).toMatch(
      /exactly one <folder>\/data\.pkl; found none/,
    );
  });

  it("rejects a pickle that is not a state dict", async () => {
    const listPickle = Uint8Array.from([0x80, 0x02, 0x5d, 0x2e]);
    expect((await failure(await write("list.bin", torchCheckpoint("archive", listPickle, {})))).message).toMatch(
      /holds a list, not a state dict/,
    );
    const nested = Uint8Array.from([0x80, 0x02, 0x7d, 0x58, 5, 0, 0, 0, ...Buffer.from("model"), 0x7d, 0x73, 0x2e]);
    expect((await failure(await write("nested.bin", torchCheckpoint("archive", nested, {})))).message).toMatch(
      /no tensors at its top level \(keys: "model"\)/,
    );
  });
});
