import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Whole (tiny) training runs on the plain-JS cpu backend take a while on a shared 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
