import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMockHub, type MockHub } from "@llamats/core/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";
import { captureContext } from "./cli-test-context.fixture.js";

let hub: MockHub;
let cacheDir: string;
const env = () => ({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cacheDir, HF_HOME: join(cacheDir, "home") });

beforeAll(async () => {
  hub = await startMockHub({
    repos: [
      {
        id: "org/tiny",
        files: { "config.json": '{"hidden_size": 64}', "model.safetensors": new Uint8Array(50_000).fill(7) },
      },
      { id: "org/gated", gated: true, files: { "config.json": "{}" } },
      { id: "org/data", type: "dataset", files: { "train.jsonl": "{}\n" } },
    ],
  });
});
afterAll(async () => {
  await hub.close();
});
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "llamats-cli-dl-"));
  hub.requests.length = 0;
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe("llamats download", () => {
  it("downloads into the shared cache, shows progress on stderr and prints the snapshot path", async () => {
    const ctx = captureContext(env());
    expect(await runCli(["download", "org/tiny"], ctx)).toBe(0);
    const snapshot = join(cacheDir, "models--org--tiny", "snapshots", hub.commitOf("org/tiny"));
    expect(ctx.out()).toBe(`${snapshot}\n`);
    expect(await readFile(join(snapshot, "config.json"), "utf8")).toBe('{"hidden_size": 64}');
    expect((await readFile(join(snapshot, "model.safetensors"))).byteLength).toBe(50_000);
    expect(ctx.err()).toMatch(/\[2\/2\] model\.safetensors \[#+\] 100% 50\.0 kB \/ 50\.0 kB/);
    expect(ctx.err()).toContain(`2 files of org/tiny at commit ${hub.commitOf("org/tiny").slice(0, 12)} in the cache.`);
    // Again: nothing is downloaded, and --offline works from the cache.
    hub.requests.length = 0;
    expect(await runCli(["download", "org/tiny"], captureContext(env()))).toBe(0);
    expect(hub.contentRequests()).toHaveLength(0);
    const offline = captureContext(env());
    expect(await runCli(["download", "org/tiny", "--offline"], offline)).toBe(0);
    expect(offline.out()).toBe(`${snapshot}\n`);
  });

  it("--include limits the files; --repo-type dataset uses datasets--org--name", async () => {
    const ctx = captureContext(env());
    expect(await runCli(["download", "org/tiny", "--include", "*.json"], ctx)).toBe(0);
    expect(hub.contentRequests().map((r) => r.url.split("/").pop())).toEqual(["config.json"]);
    const data = captureContext(env());
    expect(await runCli(["download", "org/data", "--repo-type", "dataset"], data)).toBe(0);
    expect(data.out()).toContain(join(cacheDir, "datasets--org--data", "snapshots"));
  });

  it("offline with a cold cache says what is missing and how to get it", async () => {
    const ctx = captureContext({ ...env(), HF_HUB_OFFLINE: "1" });
    expect(await runCli(["download", "org/tiny", "--revision", "v2"], ctx)).toBe(1);
    expect(ctx.err()).toContain('org/tiny at revision "v2" is not in the cache');
    expect(ctx.err()).toContain("`llamats download org/tiny --revision v2`");
    expect(hub.requests).toHaveLength(0);
  });

  it("a gated repo without HF_TOKEN says to set it", async () => {
    const ctx = captureContext(env());
    expect(await runCli(["download", "org/gated"], ctx)).toBe(1);
    expect(ctx.err()).toContain("set HF_TOKEN");
    const withToken = captureContext({ ...env(), HF_TOKEN: "hf_allowed" });
    expect(await runCli(["download", "org/gated"], withToken)).toBe(0);
  });

  it("refuses a missing repo argument and a bad --repo-type", async () => {
    const none = captureContext(env());
    expect(await runCli(["download"], none)).toBe(2);
    const bad = captureContext(env());
    expect(await runCli(["download", "org/tiny", "--repo-type", "space"], bad)).toBe(1);
    expect(bad.err()).toContain("--repo-type must be model or dataset");
  });
});
