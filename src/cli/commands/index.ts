import type { Command } from "commander";

export interface CommandModule {
  register(program: Command): void;
}

/** Every CLI command group, in the order `vertical --help` lists them. */
export const commandModules: CommandModule[] = [];
