import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { listenForInterrupts } from "./interrupts.js";

function fakeProcess(): EventEmitter & { on: NodeJS.Process["on"]; off: NodeJS.Process["off"] } {
  return new EventEmitter() as EventEmitter & { on: NodeJS.Process["on"]; off: NodeJS.Process["off"] };
}

describe("listenForInterrupts", () => {
  it("the first signal aborts with the signal named; the second asks for an exit at once", () => {
    const source = fakeProcess();
    const forced: number[] = [];
    let clock = 0;
    const interrupts = listenForInterrupts({ source, onSecondSignal: (code) => forced.push(code), now: () => clock });
    expect(interrupts.signal.aborted).toBe(false);
    expect(interrupts.exitCode()).toBeNull();
    source.emit("SIGTERM");
    expect(interrupts.signal.aborted).toBe(true);
    expect((interrupts.signal.reason as Error).message).toBe("interrupted by SIGTERM");
    expect((interrupts.signal.reason as Error).name).toBe("AbortError");
    expect(interrupts.exitCode()).toBe(143);
    expect(forced).toEqual([]);
    // The same keypress reaching us twice (parent and child both get a terminal's Ctrl-C) is one signal.
    clock = 50;
    source.emit("SIGINT");
    expect(forced).toEqual([]);
    clock = 1000;
    source.emit("SIGINT");
    expect(forced).toEqual([130]);
    expect(interrupts.exitCode()).toBe(143);
    interrupts.dispose();
    expect(source.listenerCount("SIGINT") + source.listenerCount("SIGTERM")).toBe(0);
  });

  it("SIGINT exits 130", () => {
    const source = fakeProcess();
    const interrupts = listenForInterrupts({ source, onSecondSignal: () => {} });
    source.emit("SIGINT");
    expect(interrupts.exitCode()).toBe(130);
    interrupts.dispose();
  });
});
