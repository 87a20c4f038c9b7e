import type { Command } from "commander";
import * as ragEval from "./ragEval.js";
import * as ragIndex from "./ragIndex.js";
import * as ragQuery from "./ragQuery.js";
import * as ragTrainEmbedder from "./ragTrainEmbedder.js";

/** `vertical rag …`: one file per subcommand. */
export function register(program: Command): void {
  for (const module of [ragIndex, ragQuery, ragEval, ragTrainEmbedder]) module.register(program);
}
