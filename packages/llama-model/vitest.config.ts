import { defineConfig } from "vitest/config";

// The shared 2-core CI machine can be slow to start the wasm backend: generous hook and test timeouts.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
