import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError, HubError } from "../errors.js";
import { startMockHub, type MockHub } from "../testing/mock-hub.js";
import { CORRUPT, DATASET, GATED, TINY, WEIGHTS } from "./hub-test-repos.fixture.js";
import { resolveRepoFile } from "./resolve-repo-file.js";

let hub: MockHub;
let cacheDir: string;
const opts = () => ({ hubUrl: hub.url, cacheDir, offline: false, accessToken: "" });

beforeAll(async () => {
  hub = await startMockHub({ repos: [TINY, GATED, DATASET, CORRUPT] });
});
afterAll(async () => {
  await hub.close();
});
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "llamats-hub-"));
  hub.requests.length = 0;
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<HubError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(HubError.isInstance(error), `expected a HubError, got ${String(error)}`).toBe(true);
  return error as HubError;
}

describe("resolveRepoFile from the Hub", () => {
  it("downloads into the huggingface_hub cache layout: blobs by etag, relative snapshot links, refs/main", async () => {
    const sha = hub.commitOf("org/tiny");
    const path = await resolveRepoFile({ ...opts(), repo: "org/tiny", file: "model.safetensors" });
    const root = join(cacheDir, "models--org--tiny");
    expect(path).toBe(join(root, "snapshots", sha, "model.safetensors"));
    // Buffer.compare: a deep toEqual over 300k elements is needlessly slow.
    expect(Buffer.compare(await readFile(path as string), WEIGHTS)).toBe(0);
    expect(await readFile(join(root, "refs", "main"), "utf8")).toBe(sha);
    // An LFS file's blob is named by its sha256, and the snapshot entry is a relative symlink to it.
    const etag = hub.etagOf("org/tiny", "model.safetensors");
    expect(etag).toMatch(/^[0-9a-f]{64}$/);
    expect((await lstat(path as string)).isSymbolicLink()).toBe(true);
    const target = await readlink(path as string);
    expect(target).toBe(join("..", "..", "blobs", etag));
    expect(resolve(dirname(path as string), target)).toBe(join(root, "blobs", etag));
    // A regular git file's blob is named by its git blob sha1.
    const config = await resolveRepoFile({ ...opts(), repo: "org/tiny", file: "nested/readme.txt" });
    expect(await readlink(config as string)).toBe(
      join("..", "..", "..", "blobs", hub.etagOf("org/tiny", "nested/readme.txt")),
    );
    expect(await readFile(config as string, "utf8")).toBe("hello");
  });

  it("a second load downloads nothing; a pinned, cached commit makes no request at all", async () => {
    await resolveRepoFile({ ...opts(), repo: "org/tiny", file: "model.safetensors" });
    expect(hub.contentRequests()).toHaveLength(1);
    hub.requests.length = 0;
    const again = await resolveRepoFile({ ...opts(), repo: "org/tiny", file: "model.safetensors" });
    expect(again).not.toBeNull();
    expect(hub.contentRequests()).toHaveLength(0);
    expect(hub.requests.map((r) => r.url.split("?")[0])).toEqual(["/api/models/org/tiny/revision/main"]);
    hub.requests.length = 0;
    await resolveRepoFile({
      ...opts(),
      repo: "org/tiny",
      file: "model.safetensors",
      revision: hub.commitOf("org/tiny"),
    });
    expect(hub.requests).toHaveLength(0);
  });

  it("reports progress up to the file size", async () => {
    const onProgress = vi.fn();
    await resolveRepoFile({ ...opts(), repo: "org/tiny", file: "model.safetensors", onProgress });
    const calls = onProgress.mock.calls.map(([p]) => p as { file: string; loaded: number; total: number });
    expect(calls[0]).toEqual({ file: "model.safetensors", loaded: 0, total: WEIGHTS.byteLength });
    expect(calls.at(-1)).toEqual({ file: "model.safetensors", loaded: WEIGHTS.byteLength, total: WEIGHTS.byteLength });
  });

  it("returns null for a file the repo does not have, and remembers it for offline use", async () => {
    expect(await resolveRepoFile({ ...opts(), repo: "org/tiny", file: "tokenizer.model" })).toBeNull();
    await stat(join(cacheDir, "models--org--tiny", ".no_exist", hub.commitOf("org/tiny"), "tokenizer.model"));
    expect(await resolveRepoFile({ ...opts(), offline: true, repo: "org/tiny", file: "tokenizer.model" })).toBeNull();
  });

  it("offline: works from a warm cache without a request, fails clearly from a cold one", async () => {
    const online = await resolveRepoFile({ ...opts(), repo: "org/tiny", file: "config.json" });
    hub.requests.length = 0;
    expect(await resolveRepoFile({ ...opts(), offline: true, repo: "org/tiny", file: "config.json" })).toBe(online);
    expect(hub.requests).toHaveLength(0);

    const missingFile = await failure(
      resolveRepoFile({ ...opts(), offline: true, repo: "org/tiny", file: "tokenizer.json" }),
    );
    expect(missingFile.message).toContain('tokenizer.json of org/tiny at revision "main"');
    expect(missingFile.message).toContain("llamats download org/tiny");
    const cold = await failure(
      resolveRepoFile({ ...opts(), offline: true, repo: "org/other", file: "config.json", revision: "v1" }),
    );
    expect(cold.message).toContain('org/other at revision "v1" is not in the cache');
    expect(cold.message).toContain(cacheDir);
    expect(cold.message).toContain("`llamats download org/other --revision v1`");
    expect(hub.requests).toHaveLength(0);
  });

  it("a gated repo without a token says to set HF_TOKEN and accept the terms; an accepted token works", async () => {
    const error = await failure(resolveRepoFile({ ...opts(), repo: "meta/gated", file: "config.json" }));
    expect(error.statusCode).toBe(401);
    expect(error.url).toContain("/api/models/meta/gated/revision/main");
    expect(error.message).toContain("set HF_TOKEN");
    expect(error.message).toContain(`accept the model's terms on its page, ${hub.url}/meta/gated`);
    const refused = await failure(
      resolveRepoFile({ ...opts(), repo: "meta/gated", file: "config.json", accessToken: "hf_wrong" }),
    );
    expect(refused.statusCode).toBe(403);
    expect(refused.message).toMatch(/token \(HF_TOKEN\) was refused/);
    const path = await resolveRepoFile({
      ...opts(),
      repo: "meta/gated",
      file: "config.json",
      accessToken: "hf_allowed",
    });
    expect(await readFile(path as string, "utf8")).toBe('{"gated": true}');
    expect(
      hub.requests.filter((r) => r.url.includes("/resolve/")).every((r) => r.authorization === "Bearer hf_allowed"),
    ).toBe(true);
  });

  it("contents that do not hash to the etag are refused and leave no blob behind (LFS sha256 and git sha1)", async () => {
    for (const file of ["model.safetensors", "config.json"]) {
      const error = await failure(resolveRepoFile({ ...opts(), repo: "org/corrupt", file }));
      expect(error.message).toContain(`${file} of org/corrupt: the downloaded contents hash to`);
    }
    expect(await readdir(join(cacheDir, "models--org--corrupt", "blobs"))).toEqual([]);
    expect(await readdir(join(cacheDir, "models--org--corrupt", "snapshots")).catch(() => [])).toEqual([]);
  });

  it("concurrent loads of one file both succeed", async () => {
    const [a, b] = await Promise.all([
      resolveRepoFile({ ...opts(), repo: "org/tiny", file: "config.json" }),
      resolveRepoFile({ ...opts(), repo: "org/tiny", file: "config.json" }),
    ]);
    expect(a).toBe(b);
    expect(await readFile(a as string, "utf8")).toBe('{"hidden_size": 64}');
  });

  it("a repo the Hub does not have is a 404 HubError naming it", async () => {
    const error = await failure(resolveRepoFile({ ...opts(), repo: "org/nope", file: "config.json" }));
    expect(error.statusCode).toBe(404);
    expect(error.message).toContain("model org/nope");
  });

  it("datasets live in datasets--org--name", async () => {
    const path = await resolveRepoFile({ ...opts(), repo: "org/data", repoType: "dataset", file: "train.jsonl" });
    expect(path).toBe(join(cacheDir, "datasets--org--data", "snapshots", hub.commitOf("org/data"), "train.jsonl"));
  });

  it("falls back to the cache when the Hub cannot be reached, and says so when the cache is cold", async () => {
    const warm = await resolveRepoFile({ ...opts(), repo: "org/tiny", file: "config.json" });
    const down = { ...opts(), hubUrl: "http://127.0.0.1:1" };
    expect(await resolveRepoFile({ ...down, repo: "org/tiny", file: "config.json" })).toBe(warm);
    const error = await failure(resolveRepoFile({ ...down, repo: "org/tiny", file: "tokenizer.json" }));
    expect(error.message).toContain("Cannot reach the Hub at http://127.0.0.1:1");
  });

  it("an aborted signal stops the download", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop now"));
    await expect(
      resolveRepoFile({ ...opts(), repo: "org/tiny", file: "config.json", signal: controller.signal }),
    ).rejects.toThrow("stop now");
  });

  it("reads HF_HUB_CACHE / HF_ENDPOINT / HF_HUB_OFFLINE when options leave them out", async () => {
    vi.stubEnv("HF_HUB_CACHE", cacheDir);
    vi.stubEnv("HF_ENDPOINT", hub.url);
    vi.stubEnv("HF_TOKEN", "");
    vi.stubEnv("HF_HUB_OFFLINE", "");
    try {
      const path = await resolveRepoFile({ repo: "org/tiny", file: "config.json" });
      expect(path?.startsWith(join(cacheDir, "models--org--tiny"))).toBe(true);
      vi.stubEnv("HF_HUB_OFFLINE", "1");
      hub.requests.length = 0;
      expect(await resolveRepoFile({ repo: "org/tiny", file: "config.json" })).toBe(path);
      expect(hub.requests).toHaveLength(0);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe("resolveRepoFile from a local folder", () => {
  it("returns the file path, or null when the folder has no such file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "llamats-local-"));
    await writeFile(join(dir, "config.json"), "{}");
    try {
      expect(await resolveRepoFile({ repo: dir, file: "config.json" })).toBe(join(dir, "config.json"));
      expect(await resolveRepoFile({ repo: dir, file: "tokenizer.json" })).toBeNull();
      await expect(resolveRepoFile({ repo: join(dir, "missing"), file: "config.json" })).rejects.toThrow(ConfigError);
      expect(hub.requests).toHaveLength(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
