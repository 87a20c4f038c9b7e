/**
 * Renders a model's Jinja chat template (tokenizer.chat_template / tokenizer_config.json) with
 * @huggingface/jinja, the same engine transformers.js uses; the old Jinja inside @lenml/tokenizers
 * fails on Qwen3's template.
 */
import { Template } from "@huggingface/jinja";
import { InputError } from "../shared/errors.js";

/** One turn; structurally the same as llm/ChatMessage, extra fields (tool calls, …) pass through. */
export interface ChatTemplateMessage {
  role: string;
  content: string;
  [field: string]: unknown;
}

export interface RenderChatTemplateOptions {
  /** End with the assistant turn's opening (e.g. "<|im_start|>assistant\n"). Defaults to false. */
  addGenerationPrompt?: boolean;
  /** Text of the BOS token, for templates that print {{ bos_token }}. Defaults to "". */
  bosToken?: string;
  /** Text of the EOS token. Defaults to "". */
  eosToken?: string;
  /** Any further template variables (tools, enable_thinking, date_string, …). */
  [variable: string]: unknown;
}

/** A ChatML template: what `vertical tokenizer train` writes and a fallback for models without one. */
export const chatMlTemplate =
  "{%- for message in messages %}" +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

const compiled = new Map<string, Template>();

/** The text the model sees for `messages`. InputError when the template does not parse or render. */
export function renderChatTemplate(template: string, messages: readonly ChatTemplateMessage[], options: RenderChatTemplateOptions = {}): string {
  const { addGenerationPrompt = false, bosToken = "", eosToken = "", ...extra } = options;
  let parsed = compiled.get(template);
  if (!parsed) {
    try {
      parsed = new Template(template);
    } catch (error) {
      throw new InputError(`chat template does not parse: ${(error as Error).message}`, { where: "tokenizer.chat_template", cause: error });
    }
    if (compiled.size > 16) compiled.clear();
    compiled.set(template, parsed);
  }
  try {
    return parsed.render({
      ...extra,
      messages,
      add_generation_prompt: addGenerationPrompt,
      bos_token: bosToken,
      eos_token: eosToken,
    });
  } catch (error) {
    throw new InputError(`chat template failed to render: ${(error as Error).message}`, { where: "tokenizer.chat_template", cause: error });
  }
}
