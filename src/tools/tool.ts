/**
 * A tool the tool loop can run: its definition (shown to the model) and a function of arguments that
 * already passed the definition's JSON schema. A tool throws ToolRefusedError for anything the model
 * should read and correct (a write, a bad expression); the loop turns it into the call's result.
 */
import type { ToolDefinition } from "../llm/toolChat.js";

export interface Tool {
  readonly definition: ToolDefinition;
  /** The result as text for the model. `args` matched `definition.parameters`. */
  run(args: Record<string, unknown>, signal?: AbortSignal): Promise<string>;
  dispose?(): Promise<void> | void;
}
