import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSafetensors } from "./reader.js";
import { writeSafetensors } from "./writer.js";
import { tempDir } from "./raw-file.fixture.js";

let dir: string;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("sharded model.safetensors.index.json", () => {
  it("reads every tensor from the shard the index names", async () => {
    const shard1 = join(dir, "model-00001-of-00002.safetensors");
    const shard2 = join(dir, "model-00002-of-00002.safetensors");
    await writeSafetensors(shard1, {
      "a.weight": { shape: [2, 2], data: [1, 2, 3, 4] },
      "b.weight": { shape: [1], data: [5] },
    });
    await writeSafetensors(shard2, {
      "c.weight": { shape: [3], data: [6, 7, 8] },
      ids: { shape: [2], data: new Int32Array([-1, 9]) },
    });
    const index = join(dir, "model.safetensors.index.json");
    await writeFile(
      index,
      JSON.stringify({
        metadata: { total_size: 40 },
        weight_map: {
          "a.weight": "model-00001-of-00002.safetensors",
          "b.weight": "model-00001-of-00002.safetensors",
          "c.weight": "model-00002-of-00002.safetensors",
          ids: "model-00002-of-00002.safetensors",
        },
      }),
    );
    const reader = await openSafetensors(index);
    try {
      expect(reader.path).toBe(index);
      expect(reader.metadata).toEqual({ total_size: "40" });
      expect(reader.names().sort()).toEqual(["a.weight", "b.weight", "c.weight", "ids"]);
      expect(reader.info("a.weight")).toEqual({ dtype: "F32", shape: [2, 2], file: shard1 });
      expect(reader.info("c.weight").file).toBe(shard2);
      expect(reader.info("ids").dtype).toBe("I32");
      expect(Array.from(await reader.readFloat32("a.weight"))).toEqual([1, 2, 3, 4]);
      expect(Array.from(await reader.readFloat32("c.weight"))).toEqual([6, 7, 8]);
      expect(Array.from((await reader.read("ids")).data as Int32Array)).toEqual([-1, 9]);
      expect(reader.has("b.weight")).toBe(true);
      expect(reader.has("nope")).toBe(false);
    } finally {
      await reader.close();
    }
  });

  it("rejects a weight_map entry that escapes the folder", async () => {
    const index = join(dir, "escape.safetensors.index.json");
    await writeFile(index, JSON.stringify({ weight_map: { a: "../other/model.safetensors" } }));
    await expect(openSafetensors(index)).rejects.toThrow(/"weight_map.a" must be a shard file name/);
  });
});
