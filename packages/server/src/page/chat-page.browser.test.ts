import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isCi } from "@llamats/core/testing";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeEngine, type FakeEngine } from "../engine/fake-engine.js";
import type { PromptInput } from "../engine/generation-engine.js";
import { createServer, type LlamatsServer } from "../http/create-server.js";
import { waitFor } from "../testing/listen-fake-server.js";

// Debian's chromium (apt-get install chromium); CHROMIUM_PATH overrides.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HAS_CHROMIUM = existsSync(CHROMIUM);
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const NO_CHROMIUM = `no chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
// CI installs chromium, so there a missing browser fails the run; elsewhere the suite says loudly that it skipped.
const UNDER_CI = isCi();

if (!HAS_CHROMIUM && !UNDER_CI) process.stderr.write(`chat page browser tests SKIPPED: ${NO_CHROMIUM}\n`);

interface Harness {
  server: LlamatsServer;
  engine: FakeEngine;
  baseUrl: string;
  requestedModels: string[];
}

async function startHarness(apiKey?: string): Promise<Harness> {
  const fake = createFakeEngine({
    models: [{ id: "tiny-base" }, { id: "alpaca-lora", promptFormat: "alpaca" }],
    tokenDelayMs: 40,
    // A long reply, so the test can watch it stream and stop it; max_tokens ends it otherwise.
    replyWords: () => 10_000,
  });
  const requestedModels: string[] = [];
  const engine: FakeEngine = {
    ...fake,
    preparePrompt: (input: PromptInput) => {
      requestedModels.push(input.model);
      return fake.preparePrompt(input);
    },
  };
  const server = await createServer({ engine, apiKey });
  const baseUrl = await server.listen({ host: "127.0.0.1", port: 0 });
  return { server, engine, baseUrl, requestedModels };
}

async function openContext(
  options: Parameters<typeof chromium.launchPersistentContext>[1] = {},
): Promise<{ context: BrowserContext; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "llamats-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
  return { context, dir };
}

const assistantMessages = (page: Page) => page.locator('[data-testid="message-assistant"]');

describe.skipIf(!HAS_CHROMIUM && !UNDER_CI)("chat page in headless Chromium", () => {
  let harness: Harness;
  let context: BrowserContext;
  let dir: string;

  beforeAll(async () => {
    if (!HAS_CHROMIUM) throw new Error(`CI=${process.env.CI}: ${NO_CHROMIUM}.`);
    harness = await startHarness();
    ({ context, dir } = await openContext({ viewport: { width: 1280, height: 800 } }));
  });
  afterAll(async () => {
    await context?.close();
    await harness?.server.close({ graceMs: 100 });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("types, sends, streams the reply, stops it, then sends again with other settings", async () => {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(harness.baseUrl);
    const picker = page.getByTestId("model-select");
    await expect.poll(() => picker.locator("option").allTextContents()).toEqual(["tiny-base", "alpaca-lora (adapter)"]);
    await picker.selectOption("alpaca-lora");

    await page.getByTestId("prompt-input").fill("Tell me about alpacas.");
    await page.getByTestId("send-button").click();
    await expect
      .poll(() => page.locator('[data-testid="message-user"]').allTextContents())
      .toEqual(["Tell me about alpacas."]);
    const reply = assistantMessages(page).first();
    await expect.poll(async () => (await reply.textContent())?.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    const early = (await reply.textContent()) ?? "";
    // The reply keeps growing while it streams.
    await expect
      .poll(async () => (await reply.textContent())?.length ?? 0, { timeout: 10_000 })
      .toBeGreaterThan(early.length + 10);
    expect(await page.getByTestId("send-button").isHidden()).toBe(true);

    await page.getByTestId("stop-button").click();
    await expect.poll(() => reply.getAttribute("data-state")).toBe("stopped");
    await waitFor(() => harness.engine.stats().cancelled === 1 && harness.engine.stats().active === 0);
    expect(await page.getByTestId("stop-button").isHidden()).toBe(true);
    expect(harness.requestedModels).toEqual(["alpaca-lora"]);
    const stoppedText = (await reply.textContent()) ?? "";
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await reply.textContent()).toBe(stoppedText);

    // Settings: three tokens at most, so the second reply ends on its own.
    await page.getByRole("button", { name: "Settings" }).click();
    await page.locator("#max-tokens").fill("3");
    await page.getByTestId("prompt-input").fill("And llamas?");
    await page.getByTestId("prompt-input").press("Enter");
    const second = assistantMessages(page).nth(1);
    await expect.poll(() => second.getAttribute("data-state"), { timeout: 10_000 }).toBe("done");
    expect(((await second.textContent()) ?? "").trim().split(/\s+/)).toHaveLength(3);
    expect(await page.getByTestId("status").textContent()).toMatch(/token limit/);
    expect(harness.requestedModels).toEqual(["alpaca-lora", "alpaca-lora"]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("fits a phone screen: no sideways scrolling, the composer on screen, and a reply by tapping", async () => {
    const phone = await openContext({
      viewport: { width: 375, height: 667 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    try {
      const page = await phone.context.newPage();
      await page.goto(harness.baseUrl);
      await expect.poll(() => page.getByTestId("model-select").locator("option").count()).toBe(2);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      for (const testId of ["prompt-input", "send-button", "model-select"]) {
        const box = await page.getByTestId(testId).boundingBox();
        expect(box, testId).not.toBeNull();
        expect(box!.x + box!.width, testId).toBeLessThanOrEqual(375);
        expect(box!.y + box!.height, testId).toBeLessThanOrEqual(667);
      }
      await page.getByRole("button", { name: "Settings" }).tap();
      await page.locator("#max-tokens").fill("2");
      await page.getByRole("button", { name: "Settings" }).tap();
      await page.getByTestId("prompt-input").fill("Hi from a phone");
      await page.getByTestId("send-button").tap();
      await expect
        .poll(() => assistantMessages(page).first().getAttribute("data-state"), { timeout: 10_000 })
        .toBe("done");
    } finally {
      await phone.context.close();
      await rm(phone.dir, { recursive: true, force: true });
    }
  });

  it("works behind an API key: the browser logs in with the key as password", async () => {
    const secured = await startHarness("sk-page-key");
    const browser = await openContext({ httpCredentials: { username: "me", password: "sk-page-key" } });
    try {
      const page = await browser.context.newPage();
      const response = await page.goto(secured.baseUrl);
      expect(response?.status()).toBe(200);
      await expect.poll(() => page.getByTestId("model-select").locator("option").count()).toBe(2);
      await page.getByRole("button", { name: "Settings" }).click();
      await page.locator("#max-tokens").fill("2");
      await page.getByTestId("prompt-input").fill("Secret hello");
      await page.getByTestId("send-button").click();
      await expect
        .poll(() => assistantMessages(page).first().getAttribute("data-state"), { timeout: 10_000 })
        .toBe("done");
    } finally {
      await browser.context.close();
      await rm(browser.dir, { recursive: true, force: true });
      await secured.server.close({ graceMs: 100 });
    }
  });
});
