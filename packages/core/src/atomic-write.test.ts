import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileAtomic } from "./atomic-write.js";
import { writeSafetensors } from "./safetensors/writer.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "llamats-atomic-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("replaces the file and leaves no temp file behind", async () => {
    const path = join(dir, "a", "b.txt");
    await writeFileAtomic(path, "first");
    await writeFileAtomic(path, new Uint8Array([104, 105]));
    expect(await readFile(path, "utf8")).toBe("hi");
    expect(await readdir(join(dir, "a"))).toEqual(["b.txt"]);
  });

  it("a data source that throws midway leaves the previous file intact", async () => {
    const path = join(dir, "keep.txt");
    await writeFile(path, "previous contents");
    function* chunks(): Generator<Uint8Array> {
      yield new TextEncoder().encode("half of the new ");
      throw new Error("source failed");
    }
    await expect(writeFileAtomic(path, chunks())).rejects.toThrow("source failed");
    expect(await readFile(path, "utf8")).toBe("previous contents");
    expect((await readdir(dir)).filter((f) => f.includes("keep"))).toEqual(["keep.txt"]);
  });

  it("a target that cannot be written (its folder is a file) fails and touches nothing", async () => {
    const blocker = join(dir, "blocker");
    await writeFile(blocker, "i am a file");
    await expect(writeFileAtomic(join(blocker, "x.txt"), "data")).rejects.toThrow(/EEXIST|ENOTDIR/);
    expect(await readFile(blocker, "utf8")).toBe("i am a file");
  });

  it("a failed safetensors write leaves the previous safetensors file intact", async () => {
    const path = join(dir, "adapter.safetensors");
    await writeSafetensors(path, { w: { shape: [2], data: [1, 2] } });
    const before = await readFile(path);
    await expect(writeSafetensors(path, { w: { shape: [3], data: [1, 2] } })).rejects.toThrow(/"w"/);
    expect(Buffer.compare(await readFile(path), before)).toBe(0);
    expect((await readdir(dir)).filter((f) => f.includes("adapter"))).toEqual(["adapter.safetensors"]);
  });
});
