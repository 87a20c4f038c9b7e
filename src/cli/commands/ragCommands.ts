import type { Command } from "commander";
import * as ragEval from "./ragEval.js";
import * as ragIndex from "./ragIndex.js";
import * as ragQuery from "./ragQuery.js";

/** `vertical rag …`: one file per subcommand. */
export function register(program: Command): void {
  for (const module of [ragIndex, ragQuery, ragEval]) module.register(program);
}
