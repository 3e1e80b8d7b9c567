import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startMockHub, type MockHub } from "@llamats/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";
import { captureContext } from "./cli-test-context.fixture.js";

// The PEFT adapter fixture, as save_pretrained wrote it (see peft-lora/test-fixtures/README.md).
const ADAPTER_FIXTURE = fileURLToPath(new URL("../../../peft-lora/test-fixtures/llama1-tiny-lora", import.meta.url));

let hub: MockHub;
let root: string;
let adapter: string;

const env = (token = "hf_writer") => ({ HF_TOKEN: token, HF_ENDPOINT: hub.url, HF_HOME: join(root, "hf-home") });

beforeAll(async () => {
  hub = await startMockHub({
    repos: [{ id: "base-org/llama1-tiny", files: { "README.md": "---\nlicense: apache-2.0\n---\n# tiny\n" } }],
  });
  root = await mkdtemp(join(tmpdir(), "llamats-push-cli-"));
  adapter = join(root, "adapter");
  await cp(ADAPTER_FIXTURE, adapter, { recursive: true, filter: (src) => !src.includes("expected") });
  // Name a Hub base model, as an adapter trained from a Hub repo records it.
  const config = JSON.parse(await readFile(join(adapter, "adapter_config.json"), "utf8")) as Record<string, unknown>;
  await writeFile(
    join(adapter, "adapter_config.json"),
    JSON.stringify({ ...config, base_model_name_or_path: "base-org/llama1-tiny" }),
  );
});
afterAll(async () => {
  await hub.close();
  await rm(root, { recursive: true, force: true });
});

describe("llamats push", () => {
  it("uploads an adapter folder with a generated model card; `llamats download` gets the same bytes back", async () => {
    const ctx = captureContext(env());
    const code = await runCli(["push", adapter, "--repo", "user/tiny-lora", "--commit-message", "Add adapter"], ctx);
    expect(ctx.err()).toMatch(/created .*user\/tiny-lora: 3 files in commit [0-9a-f]{12}, with a generated model card/);
    expect(code).toBe(0);
    expect(ctx.out().trim()).toBe(`${hub.url}/user/tiny-lora`);
    expect(hub.repo("user/tiny-lora")?.commits).toEqual(["Add adapter"]);
    // The card went only into the push: the folder has no README.md.
    await expect(readFile(join(adapter, "README.md"))).rejects.toThrow(/ENOENT/);

    const download = captureContext(env(""));
    expect(await runCli(["download", "user/tiny-lora"], download)).toBe(0);
    const snapshot = download.out().trim();
    for (const file of ["adapter_config.json", "adapter_model.safetensors"])
      expect(await readFile(join(snapshot, file))).toEqual(await readFile(join(adapter, file)));
    const card = await readFile(join(snapshot, "README.md"), "utf8");
    expect(card).toMatch(/^---\nbase_model: base-org\/llama1-tiny\nlibrary_name: peft\nlicense: apache-2.0\n/);
    expect(card).toContain("- base_model:adapter:base-org/llama1-tiny\n- peft\n- lora\n- llamats\n---");
    expect(card).toContain("| LoRA rank / alpha / dropout | 8 / 16 / 0 |");
    expect(card).toContain("| target modules | q_proj, up_proj, gate_proj, v_proj, o_proj, k_proj, down_proj |");
    expect(card).toContain('model = PeftModel.from_pretrained(base, "user/tiny-lora")');
    expect(card).toContain("llamats generate base-org/llama1-tiny --adapter user/tiny-lora");
  });

  it("a second push re-sends no LFS object; --write-card also writes the card into the folder", async () => {
    const uploads = hub.lfsUploads().length;
    const ctx = captureContext(env());
    expect(await runCli(["push", adapter, "--repo", "user/tiny-lora", "--write-card"], ctx)).toBe(0);
    expect(ctx.err()).toMatch(/updated .*also written to README\.md/);
    expect(hub.lfsUploads()).toHaveLength(uploads);
    expect(await readFile(join(adapter, "README.md"), "utf8")).toContain("library_name: peft");
    await rm(join(adapter, "README.md"));
  });

  it("--private creates a private repo; the token may come from the file `huggingface-cli login` writes", async () => {
    const home = join(root, "logged-in-home");
    await mkdir(home, { recursive: true });
    await writeFile(join(home, "token"), "hf_writer\n");
    const ctx = captureContext({ HF_ENDPOINT: hub.url, HF_HOME: home });
    expect(await runCli(["push", adapter, "--repo", "user/private-lora", "--private"], ctx)).toBe(0);
    expect(hub.repo("user/private-lora")?.private).toBe(true);
  });

  it("a refused token (401) or no token is one line that says what to do", async () => {
    const refused = captureContext(env("hf_expired"));
    expect(await runCli(["push", adapter, "--repo", "user/other"], refused)).toBe(1);
    expect(refused.err().trim().split("\n").at(-1)).toMatch(
      /^llamats push: The Hub refused the push \(HTTP 401\) to model user\/other .*Write role.*HF_TOKEN/,
    );
    const none = captureContext({ HF_ENDPOINT: hub.url, HF_HOME: join(root, "no-token-home") });
    expect(await runCli(["push", adapter, "--repo", "user/other"], none)).toBe(1);
    expect(none.err()).toMatch(/^llamats push: Pushing to user\/other needs a Hugging Face access token/);
    expect(hub.repo("user/other")).toBeUndefined();
  });

  it("usage errors exit 2", async () => {
    const ctx = captureContext(env());
    expect(await runCli(["push", adapter], ctx)).toBe(2);
    expect(ctx.err()).toContain("give one folder and --repo");
  });
});
