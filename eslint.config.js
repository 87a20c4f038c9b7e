import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "runs/**", "examples/**/out/**", "web/dist/**", ".cache/**", ".gpu/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-properties": [
        "error",
        { object: "process", property: "env", message: "Read the environment only in src/config.ts." },
      ],
    },
  },
  {
    files: ["src/config.ts", "bench/**", "test/**", "**/*.test.ts", "scripts/**", "examples/**"],
    rules: { "no-restricted-properties": "off" },
  },
);
