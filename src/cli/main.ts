/**
 * The composition root of the `vertical` command. Each command lives in its own file under
 * commands/ and exports `register(program)`; a command parses flags, calls the library and prints.
 * Heavy modules are imported inside actions so `vertical --help` stays fast.
 */
import { Command, CommanderError } from "commander";
import { VerticalError } from "../shared/errors.js";
import { commandModules } from "./commands/index.js";

export function buildProgram(): Command {
  const program = new Command("vertical")
    .description("Turn a general LLM into a domain LLM, and prove which specialisation works.")
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  for (const module of commandModules) module.register(program);
  return program;
}

/** Runs the CLI and returns the process exit code; errors are printed, never thrown. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (VerticalError.isInstance(error)) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
