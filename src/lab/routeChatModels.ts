/**
 * How each route's model is asked an open question, as a ChatModel wrapped around the backend's model:
 * - plain text (`Question: …\nAnswer:`, completion stopped at the line's end) for routes never trained on
 *   conversations: a base model continues text, it does not follow a chat template it has never seen;
 * - the model's own chat template for routes trained on conversations;
 * - plus, per route, solved examples (few-shot) or the top-k retrieved passages with [n] citations.
 * The MCQ side builds the same kinds of prompt inside the evaluation harness.
 */
import type { Retriever } from "../llm/retriever.js";
import type { ChatMessage, ChatModel, GenerateOptions, Generation } from "../llm/types.js";
import { formatPassages } from "../rag/formatPassages.js";
import { InterruptedError } from "../shared/errors.js";

const isChinese = (text: string) => /\p{Script=Han}/u.test(text);

export interface RouteAskOptions {
  /** Ask through the chat template (true) or as plain text completion (false). */
  chat: boolean;
  exemplars?: readonly { question: string; answer: string }[];
  retriever?: Retriever;
  /** Passages retrieved per question. Defaults to 3. */
  k?: number;
  /** Passage text cut to this many characters (small context windows). */
  maxCharsPerPassage?: number;
  /** Once aborted, every call throws InterruptedError (answers already given are kept by the caller). */
  signal?: AbortSignal;
}

export function routeChatModel(model: ChatModel, options: RouteAskOptions): ChatModel {
  return {
    id: `${model.id}${options.chat ? "" : "+plain"}${options.exemplars?.length ? `+${options.exemplars.length}-shot` : ""}${options.retriever ? `+${options.retriever.id}` : ""}`,
    async chat(messages: ChatMessage[], generate: GenerateOptions = {}): Promise<Generation> {
      if (options.signal?.aborted) throw new InterruptedError("interrupted; rerun to continue (answers so far are kept)");
      let userIndex = -1;
      for (let index = messages.length - 1; index >= 0 && userIndex < 0; index--) if (messages[index]!.role === "user") userIndex = index;
      const question = userIndex >= 0 ? messages[userIndex]!.content : "";
      const zh = isChinese(question);
      const blocks: string[] = [];
      if (options.retriever) {
        const passages = await options.retriever.retrieve(question, options.k ?? 3);
        const context = formatPassages(passages, { language: zh ? "zh" : "en", ...(options.maxCharsPerPassage ? { maxCharsPerPassage: options.maxCharsPerPassage } : {}) });
        if (context) blocks.push(context);
      }
      for (const exemplar of options.exemplars ?? [])
        if (isChinese(exemplar.question) === zh) blocks.push(zh ? `问题：${exemplar.question}\n回答：${exemplar.answer}` : `Question: ${exemplar.question}\nAnswer: ${exemplar.answer}`);
      if (options.chat) {
        const content = [...blocks, question].join("\n\n");
        return model.chat(
          messages.map((message, index) => (index === userIndex ? { ...message, content } : message)),
          generate,
        );
      }
      const system = messages.filter((message) => message.role === "system").map((message) => message.content);
      const prompt = [...system, ...blocks, zh ? `问题：${question}\n回答：` : `Question: ${question}\nAnswer:`].join("\n\n");
      const generation = await model.complete(prompt, { ...generate, stop: [...(generate.stop ?? []), "\n"] });
      return { ...generation, text: generation.text.trim() };
    },
    complete: (prompt, generate) => model.complete(prompt, generate),
  };
}

/** A stand-in for a route whose answers are all on disk already: the report step re-reads them without loading a model. */
export function answeredModel(name: string): ChatModel {
  const fail = (): never => {
    throw new Error(`route "${name}" has an unanswered open question; rerun its eval step`);
  };
  return { id: `answered:${name}`, chat: async () => fail(), complete: async () => fail() };
}
