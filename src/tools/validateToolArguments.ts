/**
 * Checks a model's tool-call arguments (JSON text) against the tool's JSON schema with zod's JSON
 * Schema import, so every tool gets the same checks and messages without its own parsing. Failures
 * are ToolRefusedError with a message a model can act on (which field, what was expected).
 */
import { z } from "zod";
import type { JsonSchema } from "../llm/toolChat.js";
import { ConfigError, ToolRefusedError } from "../shared/errors.js";

export type ArgumentsValidator = (argumentsJson: string) => Record<string, unknown>;

/** A validator for `schema`; throws ConfigError at build time when the schema itself cannot be read. */
export function compileArgumentsValidator(toolName: string, schema: JsonSchema): ArgumentsValidator {
  let validator: z.ZodType;
  try {
    validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new ConfigError(`the parameters schema is not a JSON schema zod can read: ${(error as Error).message}`, {
      where: `tool ${toolName}`,
      cause: error,
    });
  }
  return (argumentsJson) => {
    let parsed: unknown;
    try {
      // An empty string is how some servers send "no arguments".
      parsed = argumentsJson.trim() === "" ? {} : JSON.parse(argumentsJson);
    } catch (error) {
      throw new ToolRefusedError(`the arguments are not valid JSON (${(error as Error).message})`, {
        where: `tool ${toolName}`,
        hint: "Send the arguments as one JSON object.",
      });
    }
    const result = validator.safeParse(parsed);
    if (!result.success)
      throw new ToolRefusedError(`the arguments do not match the schema: ${z.prettifyError(result.error)}`, {
        where: `tool ${toolName}`,
        hint: `Expected arguments matching ${JSON.stringify(schema)}.`,
      });
    if (typeof result.data !== "object" || result.data === null || Array.isArray(result.data))
      throw new ToolRefusedError("the arguments must be a JSON object", { where: `tool ${toolName}` });
    return result.data as Record<string, unknown>;
  };
}
