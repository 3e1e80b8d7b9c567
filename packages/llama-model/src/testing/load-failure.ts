import { LlamatsError } from "@llamats/core";
import { expect } from "vitest";
import { LlamaForCausalLM } from "../llama-for-causal-lm.js";

/** The LlamatsError that loading `dir` fails with (the test fails if it loads). */
export async function loadFailure(dir: string): Promise<Error> {
  try {
    (await LlamaForCausalLM.fromPretrained(dir)).dispose();
  } catch (error) {
    expect(LlamatsError.isInstance(error)).toBe(true);
    return error as Error;
  }
  throw new Error("expected loading to fail");
}
