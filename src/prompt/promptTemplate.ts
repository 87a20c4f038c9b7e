/**
 * A system's prompt as data: system prompt, instruction, few-shot block, answer cue and chat template
 * in one small YAML object, rendered by `renderPrompt` — the one function `eval run`, the lab, `vertical
 * serve` and `vertical prompt optimise` all build their prompts with. Every field is optional: an empty
 * template renders exactly what Vertical rendered before templates existed (the benchmark's own
 * wording), so numbers measured without one do not change.
 */
import fs from "node:fs";
import YAML from "yaml";
import { z } from "zod";
import type { ChatMessage } from "../llm/types.js";
import { describeIssuePath } from "../shared/configIssues.js";
import { ConfigError } from "../shared/errors.js";

export const SHOT_SELECTIONS = ["subject-first", "random", "knn", "mmr", "balanced"] as const;
export type ShotSelection = (typeof SHOT_SELECTIONS)[number];

export const promptTemplateSchema = z.strictObject({
  systemPrompt: z.string().optional(),
  /**
   * Replaces the benchmark's header line ("The following are multiple choice questions (with answers)
   * about {subject}."); `{subject}` is replaced by the item's subject; "" drops the header.
   */
  instruction: z.string().optional(),
  /** Replaces the cue the answer follows ("Answer:" / "答案："). */
  answerCue: z.string().min(1).optional(),
  /** auto: the model's chat template; none: plain text. Defaults to the system's `chatTemplate`. */
  chatTemplate: z.enum(["auto", "none"]).optional(),
  /** contextual: MCQ option probabilities divided by the bias content-free inputs show (Zhao et al. 2021). */
  calibration: z.enum(["none", "contextual"]).optional(),
  fewShot: z
    .strictObject({
      shots: z.number().int().min(0).default(0),
      /** How shots are picked from the dev split (src/prompt/selectShots.ts). Defaults to subject-first. */
      selection: z.enum(SHOT_SELECTIONS).default("subject-first"),
    })
    .optional(),
});
export type PromptTemplate = z.infer<typeof promptTemplateSchema>;

/** The pieces a task (MCQ, open question) contributes; the template decides how they are put together. */
export interface PromptParts {
  /** Retrieved passages, already formatted; "" for none. */
  reference: string;
  /** The task's own header, used when the template has no `instruction`; "" for none. */
  defaultInstruction: string;
  /** Value of `{subject}` in the template's instruction. */
  subject: string;
  /** Solved examples, each a question block followed by its answer. */
  shots: readonly string[];
  /** The question block, ending with the answer cue. */
  question: string;
}

export interface RenderedPrompt {
  /** The user turn: reference, instruction, shots, question. */
  userText: string;
  /** For chat templates: the system prompt (if any) and the user turn. */
  messages: ChatMessage[];
  /** For plain text: the system prompt (if any), a blank line, the user turn. */
  rawText: string;
}

function instructionText(template: PromptTemplate, parts: PromptParts): string {
  if (template.instruction === undefined) return parts.defaultInstruction;
  return template.instruction.replaceAll("{subject}", parts.subject);
}

/** The one rendering of a prompt: `template` applied to the `parts` of one question. */
export function renderPrompt(template: PromptTemplate, parts: PromptParts): RenderedPrompt {
  const instruction = instructionText(template, parts);
  const userText =
    parts.reference +
    (instruction === "" ? "" : `${instruction}\n\n`) +
    parts.shots.map((shot) => `${shot}\n\n`).join("") +
    parts.question;
  const system = template.systemPrompt;
  return {
    userText,
    messages: [...(system ? [{ role: "system" as const, content: system }] : []), { role: "user", content: userText }],
    rawText: (system ? `${system}\n\n` : "") + userText,
  };
}

/** Validates a template (from YAML or code); errors name `where` and the field. */
export function parsePromptTemplate(value: unknown, where: string): PromptTemplate {
  const result = promptTemplateSchema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${describeIssuePath(issue.path) || "(top level)"}: ${issue.message}`);
  throw new ConfigError(`invalid prompt template:\n${problems.join("\n")}`, {
    where,
    hint: "See docs/prompt.md for the fields of a prompt template.",
  });
}

/** A prompt template from a YAML file. */
export function loadPromptTemplate(file: string): PromptTemplate {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read the prompt template: ${(error as Error).message}`, { where: file, cause: error });
  }
  try {
    return parsePromptTemplate(YAML.parse(text), file);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`not valid YAML: ${(error as Error).message}`, { where: file, cause: error });
  }
}
