import { describe, expect, it } from "vitest";
import { FormatError, HubError, LlamatsError, SafetensorsError } from "./errors.js";

describe("error classes", () => {
  it("carry name, cause and fields", () => {
    const cause = new Error("low level");
    const e = new SafetensorsError("bad header", { file: "a.safetensors", tensor: "w", cause });
    expect(e.name).toBe("SafetensorsError");
    expect(e.cause).toBe(cause);
    expect(e.file).toBe("a.safetensors");
    expect(e.tensor).toBe("w");
    expect(e).toBeInstanceOf(Error);
  });

  it("isInstance follows the class tree and rejects others", () => {
    const e = new SafetensorsError("x");
    expect(SafetensorsError.isInstance(e)).toBe(true);
    expect(FormatError.isInstance(e)).toBe(true);
    expect(LlamatsError.isInstance(e)).toBe(true);
    expect(HubError.isInstance(e)).toBe(false);
    expect(LlamatsError.isInstance(new Error("plain"))).toBe(false);
    expect(LlamatsError.isInstance(null)).toBe(false);
  });

  it("isInstance works for an error made by another copy of the package", () => {
    // A copy has distinct classes but marks with the same global symbols.
    const foreign = Object.assign(new Error("x"), {
      [Symbol.for("llamats.error")]: true,
      [Symbol.for("llamats.error.HubError")]: true,
    });
    expect(HubError.isInstance(foreign)).toBe(true);
    expect(LlamatsError.isInstance(foreign)).toBe(true);
    expect(FormatError.isInstance(foreign)).toBe(false);
  });
});
