// ESLint for the monorepo: type-aware typescript-eslint on every package's src (tests included), plain rules elsewhere.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

// Test code and its helpers: files that only tests import (console allowed, as in scripts).
const testFiles = [
  "**/*.test.ts",
  "**/*.fixture.ts",
  "**/src/testing/**",
  "**/src/test-support/**",
  "**/src/ops/test-support.ts",
];

export default tseslint.config(
  {
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      "**/test-fixtures/**",
      "**/coverage/**",
      "**/.turbo/**",
      "**/work/**",
      ".device/**",
      ".device-bundle/**",
      "packages/cli/src/demo/assets/**",
    ],
  },
  js.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: { ...globals.node } },
  },
  // Source code (in a tsconfig): type-aware rules.
  {
    files: ["packages/*/src/**/*.ts", "examples/*/src/**/*.ts"],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // Error messages print shapes as `[${t.shape}]`; arrays are still checked element by element (no objects).
      "@typescript-eslint/restrict-template-expressions": ["error", { allowArray: true }],
      // As only-throw-error's defaults: passing on a caught error or an abort reason, whatever its type, is right.
      "@typescript-eslint/prefer-promise-reject-errors": [
        "error",
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
    },
  },
  // Config files outside any tsconfig: the same rules without type information.
  {
    files: ["**/*.config.ts"],
    extends: [tseslint.configs.recommended],
  },
  // Library code reports through loggers and callbacks, never the console (the CLI, tests and scripts may print).
  {
    files: ["packages/*/src/**/*.ts"],
    ignores: ["packages/cli/**", ...testFiles],
    rules: { "no-console": "error" },
  },
);
