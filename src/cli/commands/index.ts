import type { Command } from "commander";
import * as modelInit from "./modelInit.js";
import * as modelLogprobs from "./modelLogprobs.js";
import * as modelPerplexity from "./modelPerplexity.js";
import * as modelInfo from "./modelInfo.js";
import * as tokenizerTrain from "./tokenizerTrain.js";
import * as tokenizerEncode from "./tokenizerEncode.js";
import * as tokenizerConvert from "./tokenizerConvert.js";
import * as train from "./train.js";
import * as exportCommand from "./export.js";
import * as evalRun from "./evalRun.js";
import * as evalReport from "./evalReport.js";
import * as evalRatings from "./evalRatings.js";
import * as evalBuildMcq from "./evalBuildMcq.js";
import * as dataCommands from "./dataCommands.js";
import * as ragCommands from "./ragCommands.js";
import * as lab from "./lab.js";
import * as serve from "./serve.js";
import * as feedbackExport from "./feedbackExport.js";

export interface CommandModule {
  register(program: Command): void;
}

/** Every CLI command group, in the order `vertical --help` lists them. */
export const commandModules: CommandModule[] = [lab, modelInit, modelInfo, modelPerplexity, modelLogprobs, tokenizerTrain, tokenizerConvert, tokenizerEncode, evalRun, evalReport, evalRatings, evalBuildMcq, dataCommands, ragCommands, train, exportCommand, serve, feedbackExport];
