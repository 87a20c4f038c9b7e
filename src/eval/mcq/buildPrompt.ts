/**
 * The text of a multiple-choice question for each scoring mode, in the wording of the benchmarks it
 * comes from: lm-evaluation-harness's MMLU prompt for English ("The following are multiple choice
 * questions (with answers) about …", "Answer:" + " A") and C-Eval's for Chinese ("以下是中国关于…考试的
 * 单项选择题，请选出其中的正确答案。", "答案：" + "A"); option scoring uses lm-eval's cloze form
 * ("Question: …\nAnswer:" + " option text").
 */
import type { RetrievedPassage } from "../../llm/retriever.js";
import { renderPrompt, type PromptTemplate, type RenderedPrompt } from "../../prompt/promptTemplate.js";
import type { McqItem } from "./types.js";

export type McqLanguage = "en" | "zh";
export type ScoringMode = "letter" | "option" | "generate";

export interface McqContinuation {
  letter: string;
  /** What is scored after the context: " A" / "A", or " option text" / "option text". */
  text: string;
  /** The choice as lm-eval's acc_norm measures it: option text without the delimiter (option mode), the letter otherwise. */
  choice: string;
}

export interface McqPrompt extends RenderedPrompt {
  /** The user-turn text, without any chat template; ends with "Answer:" / "答案：" (or the template's cue). */
  userText: string;
  /** Continuations to score, one per option (letter and option modes; empty for generate). */
  continuations: McqContinuation[];
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

export function detectLanguage(item: McqItem): McqLanguage {
  return CJK.test(item.question) ? "zh" : "en";
}

function subjectWords(subject: string): string {
  return subject.replace(/_/g, " ");
}

function header(item: McqItem, language: McqLanguage, mode: ScoringMode): string {
  const subject = subjectWords(item.subject);
  if (mode === "option") return "";
  if (language === "zh")
    return mode === "generate"
      ? `以下是中国关于${subject}考试的单项选择题，请直接给出正确答案的选项。`
      : `以下是中国关于${subject}考试的单项选择题，请选出其中的正确答案。`;
  return mode === "generate"
    ? `The following are multiple choice questions about ${subject}. Reply with the letter of the correct answer.`
    : `The following are multiple choice questions (with answers) about ${subject}.`;
}

function questionBlock(item: McqItem, language: McqLanguage, mode: ScoringMode, cue: string | undefined): string {
  const answerCue = cue ?? (language === "zh" ? "答案：" : "Answer:");
  if (mode === "option") return `${language === "zh" ? "问题：" : "Question: "}${item.question}\n${answerCue}`;
  const options = item.options.map((option) => `${option.letter}. ${option.text}`).join("\n");
  return `${item.question}\n${options}\n${answerCue}`;
}

function goldContinuation(item: McqItem, language: McqLanguage, mode: ScoringMode): string {
  const delimiter = language === "zh" ? "" : " ";
  if (mode === "option") return delimiter + item.options.find((option) => option.letter === item.answer)!.text;
  return delimiter + item.answer;
}

function referenceBlock(passages: readonly RetrievedPassage[], language: McqLanguage): string {
  if (passages.length === 0) return "";
  const title = language === "zh" ? "参考资料：" : "Reference material:";
  const lines = passages.map((passage, i) => `[${i + 1}] (${passage.source}) ${passage.text.trim()}`);
  return `${title}\n${lines.join("\n")}\n\n`;
}

export interface BuildMcqPromptInput {
  item: McqItem;
  /** k-shot exemplars with their answers (from a dev split). */
  exemplars?: readonly McqItem[];
  language: McqLanguage;
  mode: ScoringMode;
  retrieved?: readonly RetrievedPassage[];
  /**
   * True when the continuation will follow a chat template's assistant prefix: then no leading space
   * (the assistant turn starts fresh), whereas raw text continues "Answer:" with " A" as lm-eval does.
   */
  templateApplied?: boolean;
  /** The system's prompt template; defaults to the benchmark's wording, no system prompt. */
  template?: PromptTemplate;
}

export function buildMcqPrompt(input: BuildMcqPromptInput): McqPrompt {
  const { item, language, mode } = input;
  const template = input.template ?? {};
  const shots = (input.exemplars ?? []).map(
    (exemplar) => questionBlock(exemplar, language, mode, template.answerCue) + goldContinuation(exemplar, language, mode),
  );
  const rendered = renderPrompt(template, {
    reference: referenceBlock(input.retrieved ?? [], language),
    defaultInstruction: header(item, language, mode),
    subject: subjectWords(item.subject),
    shots,
    question: questionBlock(item, language, mode, template.answerCue),
  });
  if (mode === "generate") return { ...rendered, continuations: [] };
  const delimiter = language === "zh" || input.templateApplied ? "" : " ";
  const continuations = item.options.map((option) =>
    mode === "letter"
      ? { letter: option.letter, text: delimiter + option.letter, choice: option.letter }
      : { letter: option.letter, text: delimiter + option.text, choice: option.text },
  );
  return { ...rendered, continuations };
}

/** k exemplars for `item` from a dev split: the same subject first (as C-Eval/MMLU few-shot), in file order. */
export function selectExemplars(item: McqItem, dev: readonly McqItem[], k: number): McqItem[] {
  if (k <= 0) return [];
  const sameSubject = dev.filter((candidate) => candidate.subject === item.subject && candidate.id !== item.id);
  const others = dev.filter((candidate) => candidate.subject !== item.subject && candidate.id !== item.id);
  return [...sameSubject, ...others].slice(0, k);
}
