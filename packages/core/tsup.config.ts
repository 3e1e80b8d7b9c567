import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/testing.ts"],
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  // tfjs-core's register_all_gradients is extensionless ESM that plain Node cannot import: bundle it.
  noExternal: [/register_all_gradients/],
});
