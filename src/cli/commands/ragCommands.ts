import type { Command } from "commander";
import * as ragTrainEmbedder from "./ragTrainEmbedder.js";

/** `vertical rag …`: one file per subcommand, registered here. */
export function register(program: Command): void {
  for (const module of [ragTrainEmbedder]) module.register(program);
}
