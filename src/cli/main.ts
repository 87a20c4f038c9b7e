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
    const systemError = describeSystemError(error);
    if (systemError) {
      process.stderr.write(`error: ${systemError}\n`);
      return 1;
    }
    throw error;
  }
}

const systemReasons: Record<string, string> = {
  EEXIST: "something already exists at this path (a file where a folder is needed?)",
  EISDIR: "is a folder; a file is needed here",
  ENOTDIR: "a part of this path is a file, not a folder",
  ENOENT: "does not exist",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOSPC: "the disk is full",
  EFBIG: "the file is larger than this process may write (a file-size limit: ulimit -f)",
  EDQUOT: "the disk quota is exhausted",
};

/**
 * A file-system error no command turned into a VerticalError (EEXIST, EISDIR, …), as one line that
 * names the path: a user's wrong --out should not print a Node stack trace. Undefined for others.
 */
export function describeSystemError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, syscall, path, dest } = error as NodeJS.ErrnoException & { dest?: string };
  if (typeof code !== "string" || typeof syscall !== "string") return undefined;
  const reason = systemReasons[code] ?? error.message;
  // a rename's dest is the path the user named; its path is our temporary file
  const where = dest ?? path;
  return `${where ? `${where}: ` : ""}${reason} (${code} from ${syscall})`;
}
