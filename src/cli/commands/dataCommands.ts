import type { Command } from "commander";
import * as dataBuild from "./dataBuild.js";
import * as dataClean from "./dataClean.js";
import * as dataDecontaminate from "./dataDecontaminate.js";
import * as dataDedup from "./dataDedup.js";
import * as dataIngest from "./dataIngest.js";
import * as dataMine from "./dataMine.js";
import * as dataStats from "./dataStats.js";

/** `vertical data …`: one file per subcommand, registered here in pipeline order. */
export function register(program: Command): void {
  for (const module of [dataIngest, dataClean, dataDedup, dataDecontaminate, dataMine, dataBuild, dataStats]) module.register(program);
}
