/**
 * LLaMA-Factory's name for a model's chat template (data/template.py registers them), found from the GGUF's
 * tokenizer.chat_template and architecture. Only families whose template is unambiguous are named; for any other
 * template the job sets none, and LLaMA-Factory then parses the tokenizer's own Jinja template
 * (get_template_and_fix_tokenizer: "`template` was not specified, try parsing the chat template from the
 * tokenizer") — the same template the lab renders its chats with.
 */
import type { GgufFile } from "../../engine/gguf/index.js";

export interface TemplateChoice {
  name: string | undefined;
  note: string | undefined;
}

export function llamaFactoryTemplate(model: GgufFile): TemplateChoice {
  const source = model.getString("tokenizer.chat_template") ?? "";
  const architecture = model.getString("general.architecture") ?? "";
  if (source.includes("<|start_header_id|>")) return { name: "llama3", note: undefined };
  if (source.includes("<|im_start|>") && architecture === "qwen3") return { name: "qwen3", note: undefined };
  if (source.includes("<|im_start|>") && architecture === "qwen2") return { name: "qwen", note: undefined };
  return {
    name: undefined,
    note: "template is not set: LLaMA-Factory parses the tokenizer's own chat template (the one the lab trains with), so the model folder's tokenizer_config.json must carry it.",
  };
}
