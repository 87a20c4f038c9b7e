import { ConfigError } from "../../shared/errors.js";

/** A CLI flag's value as a positive integer, or a ConfigError naming the flag. */
export function parsePositiveInteger(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new ConfigError(`${flag} must be a positive integer, got "${value}"`, { where: flag });
  return parsed;
}
