import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**", "coverage/**", "web/dist/**", "test-results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Only src/config.ts reads process.env." }],
    },
  },
  {
    // Long procedures are phase functions (docs/design.md): the conversion and the upload pipeline
    // keep every function short enough to read in one screen.
    files: ["src/services/transcoder/**/*.ts", "src/apps/uploads/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: { "max-lines-per-function": ["error", { max: 80 }] },
  },
  {
    files: ["src/config.ts", "scripts/**", "bench/**", "vitest.config.ts", "src/test/**"],
    rules: { "no-restricted-properties": "off" },
  },
  { files: [".dependency-cruiser.cjs"], languageOptions: { sourceType: "commonjs", globals: { module: "writable" } } },
  { files: ["scripts/**/*.mjs", "bench/**/*.mjs"], languageOptions: { globals: { URL: "readonly", console: "readonly", process: "readonly" } } },
  // The web client: browser code; its types come from web/tsconfig.json, so `no-undef` (which
  // knows no DOM globals) is TypeScript's job there.
  { files: ["web/**/*.{ts,tsx}"], rules: { "no-undef": "off" } },
);
