import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    {
      // Same as tsup's `loader: { '.html': 'text' }`: an imported .html file is its text.
      name: "html-as-text",
      enforce: "pre",
      transform(code, id) {
        if (id.endsWith(".html")) return { code: `export default ${JSON.stringify(code)};`, map: null };
        return undefined;
      },
    },
  ],
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
