import { describe, expect, it } from "vitest";
import { installWasmThreadsShim } from "./wasm-threads.js";

type WorkerClass = new (url: string) => { terminate(): Promise<number> };

describe("installWasmThreadsShim", () => {
  it("starts a blob: worker script and reports its failure as a short reason", async () => {
    const before = Object.getOwnPropertyDescriptor(globalThis, "Worker");
    const shim = installWasmThreadsShim(2);
    const url = URL.createObjectURL(new Blob(['throw new Error("boom from the worker script")']));
    const Worker = (globalThis as unknown as { Worker: WorkerClass }).Worker;
    new Worker(url);
    await expect(shim.failed).rejects.toThrow("a pthread worker failed to start: Error: boom from the worker script");
    shim.finish(false);
    URL.revokeObjectURL(url);
    expect(Object.getOwnPropertyDescriptor(globalThis, "Worker")).toEqual(before);
  });
});
