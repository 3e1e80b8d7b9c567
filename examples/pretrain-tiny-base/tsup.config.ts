import { defineConfig } from "tsup";

// Bundled so the TypeScript runs under plain Node with no loader; the @llamats packages stay external (their dist).
export default defineConfig({
  entry: { main: "src/main.ts", "make-demo-instructions": "src/make-demo-instructions.ts" },
  format: ["esm"],
  outDir: "work/dist",
  target: "node20",
  clean: true,
});
