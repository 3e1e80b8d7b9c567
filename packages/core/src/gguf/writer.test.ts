import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../errors.js";
import { quantizeQ8_0 } from "../quantize/q8-0.js";
import { writeGguf, type GgufTensorSource } from "./writer.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llamats-gguf-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hex = (s: string): number[] =>
  s
    .split(/\s+/)
    .filter(Boolean)
    .map((b) => parseInt(b, 16));
const u64 = (n: number): number[] => [n, 0, 0, 0, 0, 0, 0, 0];
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const zeros = (n: number): number[] => new Array<number>(n).fill(0);
const source = (values: number[]) => () => Promise.resolve(new Float32Array(values));

describe("writeGguf", () => {
  it("lays out a file byte for byte as the GGUF v3 spec says", async () => {
    const path = join(dir, "tiny.gguf");
    await writeGguf(path, {
      metadata: [["k", { type: "string", value: "v" }]],
      tensors: [{ name: "t", shape: [2, 1], type: "F16", values: source([1, -2]) }],
    });
    // Written out from the spec: magic, version 3, 1 tensor, 2 key/values (general.alignment is added),
    // the tensor info with ggml's dims (innermost first: [1, 2]), padding to 32, the data, padding to 32.
    const expected = [
      ...ascii("GGUF"),
      ...hex("03 00 00 00"),
      ...u64(1),
      ...u64(2),
      ...u64(1),
      ...ascii("k"),
      ...hex("08 00 00 00"),
      ...u64(1),
      ...ascii("v"),
      ...u64(17),
      ...ascii("general.alignment"),
      ...hex("04 00 00 00 20 00 00 00"),
      ...u64(1),
      ...ascii("t"),
      ...hex("02 00 00 00"),
      ...u64(1),
      ...u64(2),
      ...hex("01 00 00 00"),
      ...u64(0),
      ...zeros(8),
      ...hex("00 3c 00 c0"),
      ...zeros(28),
    ];
    expect([...new Uint8Array(await readFile(path))]).toEqual(expected);
  });

  it("F16 rounds to nearest even (numpy's astype), Q8_0 is llama.cpp's reference quantizer, offsets are aligned", async () => {
    const path = join(dir, "types.gguf");
    const q = Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    await writeGguf(path, {
      metadata: [],
      tensors: [
        // 1 + 2^-11 is a tie between 0x3c00 and 0x3c01: even wins; 1 + 3·2^-11 rounds up to 0x3c02.
        { name: "half", shape: [3], type: "F16", values: source([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504]) },
        { name: "q", shape: [2, 32], type: "Q8_0", values: source(q) },
        { name: "f", shape: [1], type: "F32", values: source([0.1]) },
      ],
    });
    const bytes = new Uint8Array(await readFile(path));
    const dataStart = bytes.length - 32 - 96 - 32; // three tensors, each padded to 32 bytes (Q8_0: 2 blocks = 68 → 96)
    expect(dataStart % 32).toBe(0);
    expect([...bytes.subarray(dataStart, dataStart + 6)]).toEqual(hex("00 3c 02 3c ff 7b"));
    expect([...bytes.subarray(dataStart + 32, dataStart + 32 + 68)]).toEqual([...quantizeQ8_0(new Float32Array(q))]);
    expect(new DataView(bytes.buffer).getFloat32(dataStart + 128, true)).toBe(Math.fround(0.1));
  });

  it("rejects what llama.cpp could not load before creating the file", async () => {
    const path = join(dir, "bad.gguf");
    const t = (over: Partial<GgufTensorSource>): GgufTensorSource => ({
      name: "w",
      shape: [2, 40],
      type: "F32",
      values: source(zeros(80)),
      ...over,
    });
    await expect(writeGguf(path, { metadata: [], tensors: [t({ type: "Q8_0" })] })).rejects.toThrow(
      /"w": Q8_0 needs rows of a multiple of 32 values, found rows of 40/,
    );
    await expect(writeGguf(path, { metadata: [], tensors: [t({}), t({})] })).rejects.toThrow(/"w" is given twice/);
    await expect(writeGguf(path, { metadata: [], tensors: [t({ shape: [2, 0] })] })).rejects.toThrow(ValidationError);
    await expect(writeGguf(path, { metadata: [["n", { type: "uint32", value: -1 }]], tensors: [] })).rejects.toThrow(
      /"n": -1 is not a valid uint32/,
    );
    expect(await readdir(dir)).not.toContain("bad.gguf");
  });

  it("a tensor whose values do not fit its shape fails midway and leaves the previous file intact", async () => {
    const path = join(dir, "keep.gguf");
    await writeFile(path, "previous");
    await expect(
      writeGguf(path, {
        metadata: [],
        tensors: [
          { name: "ok", shape: [4], type: "F32", values: source([1, 2, 3, 4]) },
          { name: "short", shape: [4], type: "F32", values: source([1, 2]) },
        ],
      }),
    ).rejects.toThrow(/"short": shape \[4\] holds 4 values, but 2 were given/);
    expect(await readFile(path, "utf8")).toBe("previous");
    expect((await readdir(dir)).filter((f) => f.includes("keep"))).toEqual(["keep.gguf"]);
  });

  it("stops at an abort and writes nothing", async () => {
    const path = join(dir, "aborted.gguf");
    const controller = new AbortController();
    const tensors: GgufTensorSource[] = ["a", "b"].map((name) => ({
      name,
      shape: [1],
      type: "F32",
      values: () => {
        controller.abort();
        return Promise.resolve(new Float32Array([1]));
      },
    }));
    await expect(writeGguf(path, { metadata: [], tensors, signal: controller.signal })).rejects.toThrow();
    expect(await readdir(dir)).not.toContain("aborted.gguf");
  });
});

describe("writeGguf with a large header", () => {
  it("grows its header buffer without losing what was written (a 3000-token vocabulary)", async () => {
    const path = join(dir, "vocab.gguf");
    const tokens = Array.from({ length: 3000 }, (_, i) => `token-${i}-${"x".repeat(i % 50)}`);
    await writeGguf(path, {
      metadata: [
        ["tokens", { type: "array", itemType: "string", value: tokens }],
        ["ids", { type: "array", itemType: "int32", value: Int32Array.from(tokens, (_, i) => 1 - i) }],
      ],
      tensors: [],
    });
    const bytes = new Uint8Array(await readFile(path));
    const view = new DataView(bytes.buffer);
    // After magic, version, counts, key "tokens" (8 + 6), type, item type and count: the first string.
    let at = 24 + 8 + 6 + 4 + 4 + 8;
    const decoder = new TextDecoder();
    for (const token of tokens) {
      const length = Number(view.getBigUint64(at, true));
      expect(decoder.decode(bytes.subarray(at + 8, at + 8 + length))).toBe(token);
      at += 8 + length;
    }
    at += 8 + 3 + 4 + 4 + 8; // key "ids", type, item type, count
    for (let i = 0; i < tokens.length; i++) expect(view.getInt32(at + 4 * i, true)).toBe(1 - i);
  });
});
