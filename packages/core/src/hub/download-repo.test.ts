import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HubError } from "../errors.js";
import { startMockHub, type MockHub } from "../testing/mock-hub.js";
import { downloadRepo } from "./download-repo.js";
import { DATASET, TINY } from "./hub-test-repos.fixture.js";
import { resolveRepoFile } from "./resolve-repo-file.js";
import type { HubProgress } from "./types.js";

let hub: MockHub;
let cacheDir: string;
const opts = () => ({ hubUrl: hub.url, cacheDir, offline: false, accessToken: "" });

beforeAll(async () => {
  hub = await startMockHub({ repos: [TINY, DATASET] });
});
afterAll(async () => {
  await hub.close();
});
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "llamats-snap-"));
  hub.requests.length = 0;
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe("downloadRepo", () => {
  it("downloads the files matching the include globs at one commit and returns the snapshot folder", async () => {
    const progress: HubProgress[] = [];
    const result = await downloadRepo({
      ...opts(),
      repo: "org/tiny",
      include: ["*.json"],
      onProgress: (p) => progress.push(p),
    });
    const sha = hub.commitOf("org/tiny");
    expect(result).toEqual({
      path: join(cacheDir, "models--org--tiny", "snapshots", sha),
      commit: sha,
      files: ["config.json", "tokenizer.json"],
    });
    expect(await readFile(join(result.path, "config.json"), "utf8")).toBe('{"hidden_size": 64}');
    expect(hub.contentRequests().map((r) => r.url.split("/").pop())).toEqual(["config.json", "tokenizer.json"]);
    // Every file is fetched at the resolved commit, never at "main".
    expect(
      hub.requests.filter((r) => r.url.includes("/resolve/")).every((r) => r.url.includes(`/resolve/${sha}/`)),
    ).toBe(true);
    expect(progress.filter((p) => p.loaded === p.total).map((p) => [p.file, p.fileIndex, p.fileCount])).toEqual([
      ["config.json", 1, 2],
      ["tokenizer.json", 2, 2],
    ]);
  });

  it("a second download fetches nothing; files already cached by resolveRepoFile are reused", async () => {
    await resolveRepoFile({ ...opts(), repo: "org/tiny", file: "model.safetensors" });
    hub.requests.length = 0;
    const first = await downloadRepo({ ...opts(), repo: "org/tiny" });
    expect(first.files).toEqual(["config.json", "model.safetensors", "nested/readme.txt", "tokenizer.json"]);
    expect(hub.contentRequests().map((r) => r.url.split("/").pop())).toEqual([
      "config.json",
      "tokenizer.json",
      "readme.txt",
    ]);
    hub.requests.length = 0;
    await downloadRepo({ ...opts(), repo: "org/tiny" });
    expect(hub.contentRequests()).toHaveLength(0);
  });

  it("excludes and folder patterns", async () => {
    const result = await downloadRepo({
      ...opts(),
      repo: "org/tiny",
      include: ["nested/", "*.safetensors"],
      exclude: ["*.safetensors"],
    });
    expect(result.files).toEqual(["nested/readme.txt"]);
  });

  it("an include matching nothing is an error naming the patterns", async () => {
    await expect(downloadRepo({ ...opts(), repo: "org/tiny", include: ["*.gguf"] })).rejects.toThrow(
      /No file of org\/tiny .* matches \*\.gguf/,
    );
  });

  it("offline: returns the cached snapshot, or says what to download", async () => {
    const online = await downloadRepo({ ...opts(), repo: "org/data", repoType: "dataset" });
    hub.requests.length = 0;
    const offline = await downloadRepo({ ...opts(), offline: true, repo: "org/data", repoType: "dataset" });
    expect(offline).toEqual(online);
    expect(hub.requests).toHaveLength(0);
    const error = await downloadRepo({ ...opts(), offline: true, repo: "org/tiny" }).catch((e: unknown) => e);
    expect(HubError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("`llamats download org/tiny`");
  });

  it("uses a cache written by Python huggingface_hub (refs → snapshot → blob symlinks)", async () => {
    // The layout huggingface_hub writes, made by hand here.
    const sha = "a".repeat(40);
    const root = join(cacheDir, "models--someone--py-model");
    await mkdir(join(root, "blobs"), { recursive: true });
    await mkdir(join(root, "refs"), { recursive: true });
    await mkdir(join(root, "snapshots", sha), { recursive: true });
    await writeFile(join(root, "blobs", "b".repeat(40)), '{"from": "python"}');
    await writeFile(join(root, "refs", "main"), sha);
    await symlink(join("..", "..", "blobs", "b".repeat(40)), join(root, "snapshots", sha, "config.json"));
    const path = await resolveRepoFile({ ...opts(), offline: true, repo: "someone/py-model", file: "config.json" });
    expect(await readFile(path as string, "utf8")).toBe('{"from": "python"}');
    const snapshot = await downloadRepo({ ...opts(), offline: true, repo: "someone/py-model" });
    expect(snapshot).toEqual({ path: join(root, "snapshots", sha), commit: sha, files: ["config.json"] });
  });
});
