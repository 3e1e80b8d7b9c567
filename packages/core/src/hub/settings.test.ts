import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { globToRegExp, matchesAnyGlob } from "./glob.js";
import { isLocalPath, isRepoId, repoFolderName } from "./repo-id.js";
import { hubCacheDir, hubSettingsFromEnv } from "./settings.js";

describe("hubSettingsFromEnv", () => {
  it("follows huggingface_hub: HF_HUB_CACHE, then HF_HOME/hub, then XDG_CACHE_HOME, then ~/.cache/huggingface/hub", () => {
    expect(hubCacheDir({ HF_HUB_CACHE: "/c", HF_HOME: "/h" })).toBe("/c");
    expect(hubCacheDir({ HF_HOME: "/h", XDG_CACHE_HOME: "/x" })).toBe("/h/hub");
    expect(hubCacheDir({ XDG_CACHE_HOME: "/x" })).toBe("/x/huggingface/hub");
    expect(hubCacheDir({})).toBe(join(homedir(), ".cache", "huggingface", "hub"));
    expect(hubCacheDir({ HF_HUB_CACHE: "~/hf" })).toBe(join(homedir(), "hf"));
  });

  it("reads HF_ENDPOINT, HF_HUB_OFFLINE and HF_TOKEN", () => {
    const s = hubSettingsFromEnv({
      HF_ENDPOINT: "https://mirror.example/",
      HF_HUB_OFFLINE: "TRUE",
      HF_TOKEN: "hf_abc",
      HF_HOME: "/nonexistent",
    });
    expect(s).toEqual({
      cacheDir: "/nonexistent/hub",
      hubUrl: "https://mirror.example",
      offline: true,
      accessToken: "hf_abc",
    });
    const d = hubSettingsFromEnv({ HF_HOME: "/nonexistent", HF_HUB_OFFLINE: "0" });
    expect(d).toEqual({ cacheDir: "/nonexistent/hub", hubUrl: "https://huggingface.co", offline: false });
  });

  it("falls back to the token file that `huggingface-cli login` writes in HF_HOME", async () => {
    const home = await mkdtemp(join(tmpdir(), "llamats-hfhome-"));
    try {
      await writeFile(join(home, "token"), "hf_from_file\n");
      expect(hubSettingsFromEnv({ HF_HOME: home }).accessToken).toBe("hf_from_file");
      expect(hubSettingsFromEnv({ HF_HOME: home, HF_TOKEN: "hf_env" }).accessToken).toBe("hf_env");
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("repo ids and local paths", () => {
  it("tells repo ids from paths", () => {
    expect(isRepoId("meta-llama/Llama-2-7b-hf")).toBe(true);
    expect(isRepoId("gpt2")).toBe(true);
    expect(isRepoId("a/b/c")).toBe(false);
    expect(isRepoId("a--b/c")).toBe(false);
    expect(isLocalPath("./models/x")).toBe(true);
    expect(isLocalPath("/abs/x")).toBe(true);
    expect(isLocalPath("~/x")).toBe(true);
    expect(isLocalPath("..")).toBe(true);
    expect(isLocalPath("a/b/c")).toBe(true);
    expect(isLocalPath("org/name")).toBe(false);
    expect(isLocalPath(tmpdir().split("/").filter(Boolean)[0] ?? "tmp")).toBe(false);
  });

  it("names cache folders as huggingface_hub does", () => {
    expect(repoFolderName("org/name", "model")).toBe("models--org--name");
    expect(repoFolderName("org/name", "dataset")).toBe("datasets--org--name");
  });
});

describe("include globs (fnmatch)", () => {
  it("matches as fnmatch: * crosses folders, ? one char, sets, trailing slash", () => {
    expect(matchesAnyGlob("onnx/model.onnx", ["*.onnx"])).toBe(true);
    expect(matchesAnyGlob("model-00001-of-00002.safetensors", ["model-0000?-of-*.safetensors"])).toBe(true);
    expect(matchesAnyGlob("config.json", ["*.safetensors"])).toBe(false);
    expect(matchesAnyGlob("onnx/a.txt", ["onnx/"])).toBe(true);
    expect(matchesAnyGlob("a.bin", ["[ab].bin"])).toBe(true);
    expect(matchesAnyGlob("c.bin", ["[!ab].bin"])).toBe(true);
    expect(matchesAnyGlob("a.bin", ["[!ab].bin"])).toBe(false);
    expect(matchesAnyGlob("anything", undefined)).toBe(true);
    expect(globToRegExp("a.b").test("axb")).toBe(false);
  });
});
