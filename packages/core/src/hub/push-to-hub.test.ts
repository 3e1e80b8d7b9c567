import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HubError } from "../errors.js";
import { startMockHub, type MockHub } from "../testing/mock-hub.js";
import { downloadRepo } from "./download-repo.js";
import { pushToHub, type PushProgress } from "./push-to-hub.js";
import { WEIGHTS } from "./hub-test-repos.fixture.js";

const WRITER = "hf_writer";
let hub: MockHub;
let root: string;
let adapterDir: string;
let counter = 0;

/** A fresh cache folder, so each download really goes to the mock Hub. */
const freshCache = () => join(root, `cache-${counter++}`);

beforeAll(async () => {
  hub = await startMockHub({
    repos: [{ id: "user/existing", files: { "README.md": "# old" } }],
    accounts: [
      { token: WRITER, namespaces: ["user", "team"] },
      { token: "hf_reader", namespaces: ["user"], readOnly: true },
    ],
  });
  root = mkdtempSync(join(tmpdir(), "llamats-push-"));
  adapterDir = join(root, "adapter");
  mkdirSync(join(adapterDir, "checkpoint-2"), { recursive: true });
  writeFileSync(join(adapterDir, "adapter_config.json"), '{"r": 8}\n');
  writeFileSync(join(adapterDir, "adapter_model.safetensors"), WEIGHTS);
  writeFileSync(join(adapterDir, "loss_curve.svg"), "<svg></svg>\n");
  writeFileSync(join(adapterDir, "checkpoint-2", "optimizer.safetensors"), WEIGHTS.subarray(0, 100));
  writeFileSync(join(adapterDir, ".adapter_config.json.123.tmp"), "half-written");
});
afterAll(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  hub.requests.length = 0;
});

describe("pushToHub (mock Hub)", () => {
  it("creates the repo, uploads the folder (LFS for the weights) plus extra files, and downloads back byte for byte", async () => {
    const progress: PushProgress[] = [];
    const result = await pushToHub({
      dir: adapterDir,
      repo: "user/my-adapter",
      accessToken: WRITER,
      hubUrl: hub.url,
      extraFiles: { "README.md": "# card\n" },
      commitMessage: "First adapter",
      onProgress: (p) => progress.push(p),
    });
    expect(result.created).toBe(true);
    expect(result.files).toEqual(["adapter_config.json", "adapter_model.safetensors", "loss_curve.svg", "README.md"]);
    expect(result.commit).toBe(hub.commitOf("user/my-adapter"));
    expect(hub.repo("user/my-adapter")?.commits).toEqual(["First adapter"]);
    // The weights went through the LFS batch and one PUT; the small files inline in the commit.
    expect(hub.lfsUploads()).toHaveLength(1);
    expect(hub.requests.filter((r) => r.url.endsWith(".git/info/lfs/objects/batch"))).toHaveLength(1);
    // Every file reports its upload finished, with its true size.
    const done = progress.filter((p) => p.phase === "uploading" && p.loaded === p.total);
    expect(new Set(done.map((p) => p.file))).toEqual(new Set(result.files));
    expect(done.find((p) => p.file === "adapter_model.safetensors")?.total).toBe(WEIGHTS.byteLength);
    expect(progress.every((p) => p.fileCount === 4)).toBe(true);

    const back = await downloadRepo({
      repo: "user/my-adapter",
      hubUrl: hub.url,
      cacheDir: freshCache(),
      accessToken: "",
    });
    expect(back.files).toEqual(["README.md", "adapter_config.json", "adapter_model.safetensors", "loss_curve.svg"]);
    expect(new Uint8Array(readFileSync(join(back.path, "adapter_model.safetensors")))).toEqual(WEIGHTS);
    expect(readFileSync(join(back.path, "adapter_config.json"), "utf8")).toBe('{"r": 8}\n');
    expect(readFileSync(join(back.path, "README.md"), "utf8")).toBe("# card\n");
  });

  it("re-pushing sends no LFS object the Hub already has, and resumes a push interrupted before its commit", async () => {
    const before = hub.lfsUploads().length;
    const again = await pushToHub({ dir: adapterDir, repo: "user/my-adapter", accessToken: WRITER, hubUrl: hub.url });
    expect(again.created).toBe(false);
    expect(hub.lfsUploads()).toHaveLength(before);
    expect(hub.repo("user/my-adapter")?.commits).toHaveLength(2);

    // A push whose connection drops at the commit, after its LFS upload: the blob is stored, no commit is made.
    const other = join(root, "other");
    mkdirSync(other);
    const fresh = WEIGHTS.map((b) => b ^ 0x5a);
    writeFileSync(join(other, "model.safetensors"), fresh);
    const dropAtCommit: typeof fetch = (input, init) =>
      (input instanceof Request ? input.url : input.toString()).includes("/commit/")
        ? Promise.reject(new TypeError("fetch failed"))
        : fetch(input, init);
    await expect(
      pushToHub({ dir: other, repo: "user/resumed", accessToken: WRITER, hubUrl: hub.url, fetch: dropAtCommit }),
    ).rejects.toThrow(/Cannot reach the Hub/);
    expect(hub.lfsUploads()).toHaveLength(before + 1);
    expect(hub.repo("user/resumed")?.files.size).toBe(0);
    const resumed = await pushToHub({ dir: other, repo: "user/resumed", accessToken: WRITER, hubUrl: hub.url });
    expect(resumed.created).toBe(false);
    expect(hub.lfsUploads()).toHaveLength(before + 1);
    expect(hub.repo("user/resumed")?.files.get("model.safetensors")).toEqual(fresh);
  });

  it("--private creates a private repo that downloads need the token for", async () => {
    await pushToHub({ dir: adapterDir, repo: "team/secret", private: true, accessToken: WRITER, hubUrl: hub.url });
    expect(hub.repo("team/secret")?.private).toBe(true);
    const download = (accessToken: string) =>
      downloadRepo({ repo: "team/secret", hubUrl: hub.url, cacheDir: freshCache(), accessToken });
    await expect(download("")).rejects.toThrow(/HTTP 401/);
    expect((await download(WRITER)).files).toContain("adapter_model.safetensors");
    // The visibility applies when a push creates the repo; an existing repo keeps its own.
    await pushToHub({ dir: adapterDir, repo: "team/secret", private: false, accessToken: WRITER, hubUrl: hub.url });
    expect(hub.repo("team/secret")?.private).toBe(true);
  });

  it("commits to another branch, creating it", async () => {
    await pushToHub({ dir: adapterDir, repo: "user/existing", revision: "v2", accessToken: WRITER, hubUrl: hub.url });
    expect(hub.requests.some((r) => r.method === "POST" && r.url === "/api/models/user/existing/branch/v2")).toBe(true);
    expect(hub.requests.some((r) => r.url === "/api/models/user/existing/commit/v2")).toBe(true);
  });

  it("a missing, invalid or read-only token is one clear HubError saying what to do", async () => {
    const push = (accessToken: string, repo = "user/denied") =>
      pushToHub({ dir: adapterDir, repo, accessToken, hubUrl: hub.url });
    await expect(push("")).rejects.toThrow(/needs a Hugging Face access token with write access.*HF_TOKEN/);
    const invalid = await push("hf_not_a_real_token").catch((e: unknown) => e);
    expect(HubError.isInstance(invalid)).toBe(true);
    expect((invalid as HubError).statusCode).toBe(401);
    expect((invalid as Error).message).toMatch(
      /^The Hub refused the push \(HTTP 401\) to model user\/denied .*invalid or expired.*Write role/,
    );
    await expect(push("hf_reader")).rejects.toThrow(/refused the push \(HTTP 403\).*Write role/);
    await expect(push(WRITER, "someone-else/repo")).rejects.toThrow(/HTTP 403/);
    await expect(push("not-hf")).rejects.toThrow(/malformed/);
    expect(hub.repo("user/denied")).toBeUndefined();
  });

  it("rejects what is not a folder with files or not a user/name repo id", async () => {
    const options = { accessToken: WRITER, hubUrl: hub.url };
    await expect(pushToHub({ dir: join(root, "nope"), repo: "user/x", ...options })).rejects.toThrow(/does not exist/);
    mkdirSync(join(root, "empty"));
    await expect(pushToHub({ dir: join(root, "empty"), repo: "user/x", ...options })).rejects.toThrow(/no files/);
    await expect(pushToHub({ dir: adapterDir, repo: "just-a-name", ...options })).rejects.toThrow(/user\/name/);
  });
});
