// The one-way arrows of ../shared/STYLE.md, enforced: cli, serve -> lab -> train, eval, prompt, rag, data
// -> llm, model, tokenizer -> engine -> shared. eval, rag and prompt see llm/ interfaces only.
// tools/ (the tool loop and its built-in tools) sits at rag's level and sees llm/ interfaces only.
const layer = (name) => `^src/${name}/`;
const forbid = (from, to, comment) => ({ name: `${from}-not-${to}`, comment, severity: "error", from: { path: layer(from) }, to: { path: to } });
const lower = {
  shared: ["tools", "engine", "tokenizer", "model", "train", "data", "llm", "rag", "prompt", "eval", "lab", "serve", "cli"],
  engine: ["tools", "tokenizer", "model", "train", "data", "llm", "rag", "prompt", "eval", "lab", "serve", "cli"],
  tokenizer: ["tools", "model", "train", "data", "llm", "rag", "prompt", "eval", "lab", "serve", "cli"],
  model: ["tools", "train", "data", "llm", "rag", "prompt", "eval", "lab", "serve", "cli"],
  llm: ["tools", "train", "data", "rag", "prompt", "eval", "lab", "serve", "cli"],
  train: ["lab", "serve", "cli", "eval", "rag", "prompt", "tools"],
  data: ["engine", "model", "train", "lab", "serve", "cli", "eval", "rag", "prompt", "tools"],
  eval: ["engine", "model", "train", "lab", "serve", "cli"],
  rag: ["engine", "model", "train", "lab", "serve", "cli", "eval"],
  prompt: ["engine", "model", "train", "lab", "serve", "cli", "eval"],
  tools: ["engine", "model", "train", "lab", "serve", "cli", "eval", "rag", "prompt", "data"],
  lab: ["serve", "cli"],
};
const rules = [];
for (const [from, targets] of Object.entries(lower))
  for (const to of targets) rules.push(forbid(from, layer(to), `${from} must not depend on ${to}`));
rules.push({
  name: "koffi-only-in-engine",
  severity: "error",
  from: { pathNot: "^src/engine/" },
  to: { path: "node_modules/koffi" },
});
rules.push({
  name: "node-llama-cpp-only-in-llm-and-tests",
  severity: "error",
  from: { path: "^src/(eval|rag|prompt|tools|data|train|lab)/" },
  to: { path: "node_modules/node-llama-cpp" },
});
module.exports = {
  forbidden: rules,
  options: { tsConfig: { fileName: "tsconfig.json" }, doNotFollow: { path: "node_modules" }, exclude: { path: "\\.test\\.ts$" } },
};
