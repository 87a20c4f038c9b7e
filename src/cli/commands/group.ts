import type { Command } from "commander";

/**
 * The command group `name` ("model", "data", "eval", …), created on first use so that each
 * subcommand can live in its own file and register itself.
 */
export function commandGroup(program: Command, name: string, description: string): Command {
  const existing = program.commands.find((command) => command.name() === name);
  if (existing) return existing;
  return program.command(name).description(description);
}
