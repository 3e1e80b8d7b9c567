import { loadFailure } from "./testing/load-failure.js";
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  FormatError,
  UnsafePickleError,
  floatToHalf,
  halfToFloat,
  openSafetensors,
  openTorchCheckpoint,
  resolveRepoFile,
  writeSafetensors,
  type TensorToWrite,
} from "@llamats/core";
import { TEST_BACKENDS, startMockHub, useBackend } from "@llamats/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaForCausalLM } from "./llama-for-causal-lm.js";
import { TINY_DIR, readTinyExpected, type TinyExpected } from "./testing/fixtures.js";

const TORCH_BIN = fileURLToPath(new URL("../test-fixtures/torch-bin", import.meta.url));
const SINGLE_DIR = join(TORCH_BIN, "single");
const SHARDED_DIR = join(TORCH_BIN, "sharded-fp16");

/** Largest |a - b|; NaN-safe callers compare bits instead. */
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Elements whose float32 bits differ. */
function bitMismatches(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let count = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) count++;
  return count;
}

const toHalfPrecision = (values: Float32Array): Float32Array =>
  Float32Array.from(values, (v) => halfToFloat(floatToHalf(v)));

let work: string;
let reference: Map<string, Float32Array>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "llama-torch-bin-"));
  const reader = await openSafetensors(join(TINY_DIR, "model.safetensors"));
  reference = new Map();
  for (const name of reader.names()) reference.set(name, await reader.readFloat32(name));
  await reader.close();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A model folder holding config.json and the given files copied from `from`. */
async function folderWith(name: string, from: string, files: string[]): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await copyFile(join(TINY_DIR, "config.json"), join(dir, "config.json"));
  for (const file of files) await copyFile(join(from, file), join(dir, file));
  return dir;
}

describe("PyTorch checkpoints of llama1-tiny (test-fixtures/torch-bin) read tensor by tensor", () => {
  it("single/pytorch_model.bin: every tensor bit-identical to model.safetensors", async () => {
    const reader = await openTorchCheckpoint(join(SINGLE_DIR, "pytorch_model.bin"));
    expect(reader.names().sort()).toEqual([...reference.keys()].sort());
    let worst = 0;
    for (const [name, want] of reference) {
      expect(reader.info(name).dtype).toBe("F32");
      const got = await reader.readFloat32(name);
      expect(bitMismatches(got, want), name).toBe(0);
      worst = Math.max(worst, maxAbsDiff(got, want));
    }
    expect(worst).toBe(0);
    await reader.close();
  });

  it("sharded-fp16: every tensor is exactly the float16 rounding of the safetensors one, from the shard the index names", async () => {
    const reader = await openTorchCheckpoint(join(SHARDED_DIR, "pytorch_model.bin.index.json"));
    const index = JSON.parse(await readFile(join(SHARDED_DIR, "pytorch_model.bin.index.json"), "utf8")) as {
      weight_map: Record<string, string>;
    };
    expect(reader.names().sort()).toEqual([...reference.keys()].sort());
    for (const [name, want] of reference) {
      const info = reader.info(name);
      expect(info.dtype).toBe("F16");
      expect(info.file).toBe(join(SHARDED_DIR, index.weight_map[name]));
      expect(bitMismatches(await reader.readFloat32(name), toHalfPrecision(want)), name).toBe(0);
    }
    await reader.close();
  });
});

describe.each(TEST_BACKENDS)("fromPretrained from PyTorch checkpoints on %s", (backend) => {
  let expected: TinyExpected;
  let fromSafetensors: Float32Array;

  const logitsOf = async (model: LlamaForCausalLM): Promise<Float32Array> => {
    const { logits } = model.forward(expected.inputIds, { attentionMask: expected.attentionMask });
    const data = (await logits.data()) as Float32Array;
    logits.dispose();
    return data;
  };

  beforeAll(async () => {
    await useBackend(backend);
    expected = await readTinyExpected();
    const model = await LlamaForCausalLM.fromPretrained(TINY_DIR);
    fromSafetensors = await logitsOf(model);
    model.dispose();
  });

  it("single/: logits identical to llama1-tiny loaded from safetensors (and within 1e-4 of transformers at unpadded positions)", async () => {
    const model = await LlamaForCausalLM.fromPretrained(SINGLE_DIR);
    for (const [name, variable] of model.namedParameters()) {
      expect(bitMismatches((await variable.data()) as Float32Array, reference.get(name)!), name).toBe(0);
    }
    const logits = await logitsOf(model);
    expect(maxAbsDiff(logits, fromSafetensors)).toBe(0);
    const vocab = 2000;
    let worst = 0;
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 24; t++) {
        if (expected.attentionMask[b][t] === 0) continue;
        const at = (b * 24 + t) * vocab;
        worst = Math.max(worst, maxAbsDiff(logits.subarray(at, at + vocab), expected.logits.subarray(at, at + vocab)));
      }
    }
    expect(worst).toBeLessThan(1e-4);
    model.dispose();
  });

  it("sharded-fp16/: parameters are the float16-rounded weights exactly; logits equal an F16 safetensors copy", async () => {
    const model = await LlamaForCausalLM.fromPretrained(SHARDED_DIR);
    for (const [name, variable] of model.namedParameters()) {
      expect(bitMismatches((await variable.data()) as Float32Array, toHalfPrecision(reference.get(name)!)), name).toBe(
        0,
      );
    }
    const dir = await folderWith(`f16-safetensors-${backend}`, TINY_DIR, []);
    const tensors: Record<string, TensorToWrite> = {};
    const st = await openSafetensors(join(TINY_DIR, "model.safetensors"));
    for (const [name, data] of reference) tensors[name] = { shape: st.info(name).shape, data, dtype: "F16" };
    await st.close();
    await writeSafetensors(join(dir, "model.safetensors"), tensors);
    const f16 = await LlamaForCausalLM.fromPretrained(dir);
    expect(maxAbsDiff(await logitsOf(model), await logitsOf(f16))).toBe(0);
    f16.dispose();
    model.dispose();
  });
});

describe("which weights fromPretrained picks, and refusals", () => {
  beforeAll(() => useBackend("cpu"));

  it("prefers safetensors when a folder has both", async () => {
    const dir = await folderWith(
      "both",
      SHARDED_DIR,
      (await readdir(SHARDED_DIR)).filter((f) => f.startsWith("pytorch_model")),
    );
    await copyFile(join(TINY_DIR, "model.safetensors"), join(dir, "model.safetensors"));
    const model = await LlamaForCausalLM.fromPretrained(dir);
    const q = (await model.namedParameters().get("model.layers.0.self_attn.q_proj.weight")!.data()) as Float32Array;
    expect(bitMismatches(q, reference.get("model.layers.0.self_attn.q_proj.weight")!)).toBe(0);
    model.dispose();
  });

  it("loads float64 weights rounded to float32 (as transformers loads them in its default dtype)", async () => {
    const dir = await folderWith("f64", TINY_DIR, []);
    const st = await openSafetensors(join(TINY_DIR, "model.safetensors"));
    const tensors: Record<string, TensorToWrite> = {};
    const name = "model.layers.0.mlp.up_proj.weight";
    // One tensor gets float64-only precision: it must come back as Math.fround of it.
    const nudged = Float64Array.from(reference.get(name)!, (v) => v + 2 ** -40);
    for (const [n, data] of reference)
      tensors[n] = { shape: st.info(n).shape, data: n === name ? nudged : data, dtype: "F64" };
    await st.close();
    await writeSafetensors(join(dir, "model.safetensors"), tensors);
    const model = await LlamaForCausalLM.fromPretrained(dir);
    const q = "model.layers.1.self_attn.q_proj.weight";
    expect(bitMismatches((await model.namedParameters().get(q)!.data()) as Float32Array, reference.get(q)!)).toBe(0);
    expect(
      bitMismatches((await model.namedParameters().get(name)!.data()) as Float32Array, Float32Array.from(nudged)),
    ).toBe(0);
    model.dispose();
  });

  it("refuses a pytorch_model.bin whose pickle names another global, before reading on", async () => {
    const dir = await folderWith("hostile", SINGLE_DIR, []);
    const original = new Uint8Array(await readFile(join(SINGLE_DIR, "pytorch_model.bin")));
    // The first global of data.pkl, swapped for one of the same length so the stored entry keeps its size.
    const hostile = Buffer.from(original)
      .toString("latin1")
      .replace("collections\nOrderedDict", "subprocess\ncheck_output");
    await writeFile(join(dir, "pytorch_model.bin"), Buffer.from(hostile, "latin1"));
    const error = await loadFailure(dir);
    expect(UnsafePickleError.isInstance(error)).toBe(true);
    expect((error as UnsafePickleError).global).toBe("subprocess.check_output");
    expect(error.message).toContain(join(dir, "pytorch_model.bin"));
    expect(error.message).toContain('"subprocess.check_output"');
  });

  it("explains a legacy (pre-1.6) pytorch_model.bin", async () => {
    const dir = await folderWith("legacy", SINGLE_DIR, []);
    await writeFile(
      join(dir, "pytorch_model.bin"),
      Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]),
    );
    const error = await loadFailure(dir);
    expect(FormatError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/legacy \(pre-1\.6, non-zip\) PyTorch checkpoint.*torch\.save\(torch\.load\(/);
  });

  it("names every file it looked for when a folder has no weights", async () => {
    const error = await loadFailure(await folderWith("empty", SINGLE_DIR, []));
    expect(error.message).toMatch(
      /no weights found; looked for model\.safetensors\.index\.json, model\.safetensors, pytorch_model\.bin\.index\.json, pytorch_model\.bin/,
    );
  });

  it("loads .bin-only repos through the (mock) Hub, single and sharded, and again offline from the cache", async () => {
    const filesOf = async (dir: string): Promise<Record<string, Uint8Array>> => {
      const files: Record<string, Uint8Array> = {};
      for (const name of await readdir(dir)) files[name] = new Uint8Array(await readFile(join(dir, name)));
      return files;
    };
    const both = {
      ...(await filesOf(SHARDED_DIR)),
      "model.safetensors": new Uint8Array(await readFile(join(TINY_DIR, "model.safetensors"))),
    };
    const hub = await startMockHub({
      repos: [
        { id: "old-org/llama-tiny-bin", files: await filesOf(SINGLE_DIR) },
        { id: "old-org/llama-tiny-bin-sharded", files: await filesOf(SHARDED_DIR) },
        { id: "new-org/llama-tiny-both", files: both },
      ],
    });
    const hubOptions = { hubUrl: hub.url, cacheDir: join(work, "hub-cache"), accessToken: "" };
    const q = "model.layers.1.self_attn.q_proj.weight";
    try {
      const single = await LlamaForCausalLM.fromPretrained("old-org/llama-tiny-bin", hubOptions);
      expect(bitMismatches((await single.namedParameters().get(q)!.data()) as Float32Array, reference.get(q)!)).toBe(0);
      single.dispose();

      const sharded = await LlamaForCausalLM.fromPretrained("old-org/llama-tiny-bin-sharded", hubOptions);
      expect(
        bitMismatches(
          (await sharded.namedParameters().get(q)!.data()) as Float32Array,
          toHalfPrecision(reference.get(q)!),
        ),
      ).toBe(0);
      sharded.dispose();

      const preferred = await LlamaForCausalLM.fromPretrained("new-org/llama-tiny-both", hubOptions);
      expect(bitMismatches((await preferred.namedParameters().get(q)!.data()) as Float32Array, reference.get(q)!)).toBe(
        0,
      );
      preferred.dispose();
      const fetched = hub.contentRequests().map((r) => r.url);
      expect(fetched.some((url) => url.includes("llama-tiny-both") && url.includes("pytorch_model"))).toBe(false);

      // A cache holding only config.json and pytorch_model.bin (as a Python download with allow_patterns leaves it):
      // offline, the safetensors files it knows nothing about are skipped.
      const pythonCache = { ...hubOptions, cacheDir: join(work, "python-cache") };
      for (const file of ["config.json", "pytorch_model.bin"])
        await resolveRepoFile({ repo: "old-org/llama-tiny-bin", file, ...pythonCache });
      const cachedOnly = await LlamaForCausalLM.fromPretrained("old-org/llama-tiny-bin", {
        ...pythonCache,
        offline: true,
      });
      expect(
        bitMismatches((await cachedOnly.namedParameters().get(q)!.data()) as Float32Array, reference.get(q)!),
      ).toBe(0);
      cachedOnly.dispose();
      const nothing = join(work, "empty-cache");
      await resolveRepoFile({ repo: "old-org/llama-tiny-bin", file: "config.json", ...hubOptions, cacheDir: nothing });
      await expect(
        LlamaForCausalLM.fromPretrained("old-org/llama-tiny-bin", { ...hubOptions, cacheDir: nothing, offline: true }),
      ).rejects.toThrow(/Offline mode .*model\.safetensors\.index\.json/);
    } finally {
      await hub.close();
    }
    // The Hub is gone: the cache (with the misses it remembered) is enough.
    const offline = await LlamaForCausalLM.fromPretrained("old-org/llama-tiny-bin-sharded", {
      ...hubOptions,
      offline: true,
    });
    expect(offline.namedParameters().size).toBe(reference.size);
    offline.dispose();
  });
});
