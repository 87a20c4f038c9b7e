import { Environment, Interpreter, Template } from "@huggingface/jinja";
import type { Tokenizer } from "../tokenizer/types.js";

export interface TemplateMessage {
  role: string;
  content: string;
}

export interface ChatTemplateOptions {
  /** Extra variables for the template (e.g. `enable_thinking`, `date_string`). */
  variables?: Record<string, unknown>;
  /**
   * The date `strftime_now` returns, so renders do not depend on the clock (same inputs = same
   * bytes). Defaults to 2024-07-26, the default date of Llama 3.1's template.
   */
  date?: Date;
}

const monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** The subset of strftime that chat templates use (%d %m %Y %y %b %B). */
function strftime(date: Date, format: string): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return format.replace(/%([dmYybB%])/g, (_, code: string) => {
    switch (code) {
      case "d": return pad(date.getUTCDate());
      case "m": return pad(date.getUTCMonth() + 1);
      case "Y": return String(date.getUTCFullYear());
      case "y": return pad(date.getUTCFullYear() % 100);
      case "b": return monthNames[date.getUTCMonth()]!.slice(0, 3);
      case "B": return monthNames[date.getUTCMonth()]!;
      default: return "%";
    }
  });
}

/** Jinja's range(): range(stop) or range(start, stop, step). */
function range(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error("range() step must not be zero");
  const values: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) values.push(i);
  return values;
}

/**
 * A compiled chat template (Jinja, as in tokenizer_config.json or GGUF `tokenizer.chat_template`),
 * rendered with the variables Hugging Face's apply_chat_template passes.
 */
export class ChatTemplate {
  private readonly template: Template;
  private readonly variables: Record<string, unknown>;

  constructor(readonly source: string, tokenizer: Pick<Tokenizer, "bosId" | "eosId" | "idToToken">, options: ChatTemplateOptions = {}) {
    this.template = new Template(source);
    const date = options.date ?? new Date(Date.UTC(2024, 6, 26));
    const tokenText = (id: number | undefined) => (id === undefined ? "" : (tokenizer.idToToken(id) ?? ""));
    this.variables = {
      bos_token: tokenText(tokenizer.bosId),
      eos_token: tokenText(tokenizer.eosId),
      strftime_now: (format: string) => strftime(date, format),
      ...options.variables,
    };
  }

  /**
   * Renders like Template.render, but with our own globals: @huggingface/jinja's built-in
   * strftime_now reads the clock and cannot be overridden through render().
   */
  render(messages: readonly TemplateMessage[], addGenerationPrompt: boolean): string {
    const environment = new Environment();
    const globals: Record<string, unknown> = {
      false: false,
      true: true,
      none: null,
      False: false,
      True: true,
      None: null,
      range,
      raise_exception: (message: string) => {
        throw new Error(message);
      },
      ...this.variables,
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: addGenerationPrompt,
    };
    for (const [name, value] of Object.entries(globals)) environment.set(name, value);
    const result = new Interpreter(environment).run(this.template.parsed) as { value: string };
    return result.value;
  }
}
