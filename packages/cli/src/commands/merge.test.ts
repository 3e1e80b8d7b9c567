import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openSafetensors } from "@llamats/core";
import { startMockHub } from "@llamats/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../run-cli.js";
import { captureContext } from "./cli-test-context.fixture.js";

// The golden fixtures live with @llamats/peft-lora (copied unchanged from shared/fixtures; see its test-fixtures/README.md).
const FIXTURES = fileURLToPath(new URL("../../../peft-lora/test-fixtures", import.meta.url));

describe("llamats merge", () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "llamats-merge-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("merges the PEFT fixture adapter into its base and prints where it wrote", async () => {
    const ctx = captureContext({ HF_HUB_OFFLINE: "1", HF_HUB_CACHE: out });
    const target = join(out, "merged");
    const code = await runCli(
      ["merge", join(FIXTURES, "llama1-tiny"), join(FIXTURES, "llama1-tiny-lora"), "--out", target, "--backend", "cpu"],
      ctx,
    );
    expect(ctx.err()).toContain("r=8, alpha=16");
    expect(code).toBe(0);
    expect(ctx.out()).toBe(`${target}\n`);
    expect(existsSync(join(target, "config.json"))).toBe(true);
    expect(existsSync(join(target, "tokenizer.json"))).toBe(true);
    const reader = await openSafetensors(join(target, "model.safetensors"));
    expect(reader.names().some((name) => name.includes("lora"))).toBe(false);
    expect(reader.info("model.layers.0.self_attn.q_proj.weight").shape).toEqual([64, 64]);
    await reader.close();
  }, 60_000);

  it("--push-to-hub uploads the merged model with a transformers model card", async () => {
    const hub = await startMockHub({ repos: [] });
    try {
      const ctx = captureContext({ HF_TOKEN: "hf_writer", HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(out, "cache") });
      const target = join(out, "merged-pushed");
      const args = ["merge", join(FIXTURES, "llama1-tiny"), join(FIXTURES, "llama1-tiny-lora"), "--out", target];
      const code = await runCli([...args, "--backend", "cpu", "--push-to-hub", "user/tiny-merged"], ctx);
      expect(ctx.err()).toMatch(/created .*user\/tiny-merged/);
      expect(code).toBe(0);
      const pushed = hub.repo("user/tiny-merged");
      expect(pushed?.files.get("model.safetensors")).toEqual(
        new Uint8Array(await readFile(join(target, "model.safetensors"))),
      );
      const card = new TextDecoder().decode(pushed?.files.get("README.md"));
      expect(card).toContain("library_name: transformers");
      expect(card).toContain("with the LoRA adapter");
      expect(card).toContain("| LoRA rank / alpha / dropout | 8 / 16 / 0 |");
      expect(card).toContain('AutoModelForCausalLM.from_pretrained("user/tiny-merged")');
    } finally {
      await hub.close();
    }
  }, 60_000);

  it("asks for --out", async () => {
    const ctx = captureContext();
    expect(await runCli(["merge", "a", "b"], ctx)).toBe(2);
    expect(ctx.err()).toContain("--out");
  });
});
