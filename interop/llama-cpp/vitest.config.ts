import { defineConfig } from "vitest/config";

// llama.cpp and several models per test on a shared 2-core machine: generous timeouts; one file at a time.
export default defineConfig({
  test: {
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
