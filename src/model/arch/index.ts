/** The architecture registry: one file per architecture, one Map, one lookup. */
import { ModelError } from "../../shared/errors.js";
import type { Architecture } from "./architecture.js";
import { llama } from "./llama.js";
import { qwen2 } from "./qwen2.js";
import { qwen3 } from "./qwen3.js";

export type { Architecture } from "./architecture.js";

export const architectures: ReadonlyMap<string, Architecture> = new Map(
  [llama, qwen2, qwen3].map((architecture) => [architecture.name, architecture]),
);

/** The architecture called `name`; ModelError naming `where` (the file) when Vertical does not know it. */
export function resolveArchitecture(name: string | undefined, where?: string): Architecture {
  const found = name === undefined ? undefined : architectures.get(name);
  if (found) return found;
  throw new ModelError(
    name === undefined
      ? "general.architecture is missing"
      : `unknown architecture "${name}"; Vertical runs ${[...architectures.keys()].join(", ")}`,
    { where, hint: "use a llama, qwen2 or qwen3 GGUF" },
  );
}
