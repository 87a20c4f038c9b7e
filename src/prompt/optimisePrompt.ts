/**
 * Instruction optimisation (APE, Zhou et al. 2023; OPRO, Yang et al. 2024): candidates are the user's
 * seeds plus rewrites an LLM (any ChatModel, the scored model included) proposes from the best
 * candidates so far with their scores; each candidate is scored on the dev split by a dense signal
 * (the mean gold-answer log-likelihood through a TokenScorer, or option accuracy), and successive
 * halving (Jamieson & Talwalkar 2016) spends the scoring on the promising ones: every candidate is
 * scored on a small first rung of dev items, the better half goes on to twice the items, and so on up
 * to the whole dev split. The search history (searchHistory.ts) is the checkpoint.
 */
import type { ChatModel, Generation } from "../llm/types.js";
import { ConfigError, ContextOverflowError, InterruptedError } from "../shared/errors.js";
import type { PromptTemplate } from "./promptTemplate.js";
import { appendHistory, readHistory, type CandidateRecord, type ScoreRecord } from "./searchHistory.js";

/** Scores a template on the first `items` dev items: one number per item (higher is better) and tokens read. */
export type DevScorer = (template: PromptTemplate, items: number) => Promise<{ scores: number[]; tokens: number }>;

export interface OptimisePromptOptions {
  /** The starting template; it is candidate 0 and the one the result is compared with. */
  start: PromptTemplate;
  /** More instructions to try as they are. */
  seeds?: readonly string[];
  /** Total candidates (seeds included); rewrites fill up to it. */
  budget: number;
  devItems: number;
  scoreDev: DevScorer;
  /** Proposes rewrites; without it only the seeds are searched. */
  rewriter?: ChatModel;
  /** Mean with interval of per-item scores (eval's bootstrap). */
  interval: (scores: readonly number[]) => { value: number; ci95: [number, number] };
  historyFile: string;
  /** Items on the first rung. Defaults to what lets the halving reach the whole dev split. */
  firstRungItems?: number;
  signal?: AbortSignal;
  onRecord?: (record: CandidateRecord | ScoreRecord) => void;
}

export interface OptimisePromptResult {
  best: CandidateRecord;
  bestScore: ScoreRecord;
  startScore: ScoreRecord;
  candidates: CandidateRecord[];
  scores: ScoreRecord[];
  /** Spent by this run and the runs it resumed: rewriter calls and tokens, dev scoring tokens. */
  cost: { rewriteCalls: number; rewriteTokens: number; scoringTokens: number; scoredRungs: number };
}

/** Checked before any model call. */
export function checkOptimiseOptions(options: Pick<OptimisePromptOptions, "budget" | "devItems" | "seeds">): void {
  if (!Number.isInteger(options.budget) || options.budget < 1)
    throw new ConfigError(`the budget must be a whole number of candidates, at least 1; got ${options.budget}`, {
      where: "--budget",
      hint: "Give --budget N: the number of candidate prompts to try, the starting prompt and seeds included.",
    });
  if (options.devItems < 1)
    throw new ConfigError("the dev split has no items to score candidates on", { where: "--dev", hint: "Give a dev file with at least one item." });
}

const instructionOf = (template: PromptTemplate) => template.instruction ?? "(the benchmark's own instruction)";

/** OPRO's meta-prompt: the best instructions so far with their scores, ask for a better one. */
function metaPrompt(ranked: { candidate: CandidateRecord; mean: number }[]): string {
  const lines = ranked.map(({ candidate, mean }) => `Instruction: ${instructionOf(candidate.template)}\nScore: ${mean.toFixed(4)}`);
  return (
    "Below are instructions placed before multiple-choice questions, each with its score on a development set (higher is better).\n\n" +
    `${lines.join("\n\n")}\n\n` +
    "Write one new instruction that is different from all of them and will score higher. Reply with the instruction alone, on one line."
  );
}

/** The rewriter's reply as an instruction: first non-empty line, without quotes or a label. */
export function parseInstruction(reply: string): string {
  const line = reply.split("\n").map((text) => text.trim()).find((text) => text !== "") ?? "";
  return line.replace(/^(new )?instruction:\s*/i, "").replace(/^["'“]+|["'”]+$/g, "").trim();
}

/** Items per rung: the first rung small enough that halving the candidates doubles the items up to all of them. */
function rungSizes(devItems: number, candidates: number, firstRungItems: number | undefined): number[] {
  const rungs = Math.max(1, Math.ceil(Math.log2(Math.max(1, candidates))) + 1);
  const first = Math.max(1, Math.min(devItems, firstRungItems ?? Math.ceil(devItems / 2 ** (rungs - 1))));
  const sizes = [first];
  while (sizes.at(-1)! < devItems) sizes.push(Math.min(devItems, sizes.at(-1)! * 2));
  return sizes;
}

class Search {
  readonly candidates: CandidateRecord[] = [];
  readonly scores = new Map<string, ScoreRecord>();
  rewriteCalls = 0;
  rewriteTokens = 0;
  scoringTokens = 0;
  scoredRungs = 0;

  constructor(private readonly options: OptimisePromptOptions) {
    for (const record of readHistory(options.historyFile)) {
      if (record.type === "candidate") {
        this.candidates.push(record);
        if (record.tokens) [this.rewriteCalls, this.rewriteTokens] = [this.rewriteCalls + 1, this.rewriteTokens + record.tokens.prompt + record.tokens.completion];
      } else {
        this.scores.set(`${record.id}@${record.rung}`, record);
        this.scoringTokens += record.tokens;
      }
    }
  }

  private checkSignal(): void {
    if (this.options.signal?.aborted)
      throw new InterruptedError("the prompt search was interrupted", { hint: `Run the same command again: it resumes from ${this.options.historyFile}.` });
  }

  add(record: CandidateRecord): CandidateRecord {
    appendHistory(this.options.historyFile, record);
    this.options.onRecord?.(record);
    this.candidates.push(record);
    return record;
  }

  has(template: PromptTemplate): boolean {
    return this.candidates.some((candidate) => JSON.stringify(candidate.template) === JSON.stringify(template));
  }

  async score(candidate: CandidateRecord, rung: number, items: number): Promise<ScoreRecord> {
    const known = this.scores.get(`${candidate.id}@${rung}`);
    if (known) return known;
    this.checkSignal();
    const { scores, tokens } = await this.options.scoreDev(candidate.template, items);
    this.checkSignal();
    const { value, ci95 } = this.options.interval(scores);
    const record: ScoreRecord = { type: "score", id: candidate.id, rung, items, mean: value, ci95, scores, tokens };
    appendHistory(this.options.historyFile, record);
    this.options.onRecord?.(record);
    this.scores.set(`${candidate.id}@${rung}`, record);
    this.scoringTokens += tokens;
    this.scoredRungs++;
    return record;
  }

  ranked(rung: number): { candidate: CandidateRecord; mean: number }[] {
    return this.candidates
      .flatMap((candidate) => {
        const score = this.scores.get(`${candidate.id}@${rung}`);
        return score ? [{ candidate, mean: score.mean }] : [];
      })
      .sort((a, b) => b.mean - a.mean);
  }

  async propose(parent: CandidateRecord, ranked: { candidate: CandidateRecord; mean: number }[]): Promise<CandidateRecord> {
    this.checkSignal();
    const rewriter = this.options.rewriter!;
    let generation: Generation;
    try {
      generation = await rewriter.chat([{ role: "user", content: metaPrompt(ranked.slice(0, 8)) }], {
        maxTokens: 96,
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      });
    } catch (error) {
      // A rewriter whose context cannot hold the meta-prompt (a small local model) proposes nothing; the slot is
      // spent like an empty proposal's, so the search still ends.
      if (!(error instanceof ContextOverflowError)) throw error;
      return this.add({ type: "candidate", id: `c${this.candidates.length}`, template: parent.template, source: "rewrite", parent: parent.id, tokens: { prompt: 0, completion: 0 }, rejected: "too-long" });
    }
    this.rewriteCalls++;
    const tokens = { prompt: generation.usage.promptTokens, completion: generation.usage.completionTokens };
    this.rewriteTokens += tokens.prompt + tokens.completion;
    const instruction = parseInstruction(generation.text);
    const template = { ...parent.template, instruction };
    // An empty or repeated proposal still spends its budget slot, so a stuck rewriter cannot loop forever.
    const rejected = instruction === "" ? "empty" : this.has(template) ? "repeat" : undefined;
    return this.add({ type: "candidate", id: `c${this.candidates.length}`, template, source: "rewrite", parent: parent.id, tokens, ...(rejected ? { rejected } : {}) });
  }
}

/** Runs (or resumes) the search; the result's best is the top candidate on the whole dev split. */
export async function optimisePrompt(options: OptimisePromptOptions): Promise<OptimisePromptResult> {
  checkOptimiseOptions(options);
  const search = new Search(options);
  const seedTemplates = [options.start, ...(options.seeds ?? []).map((instruction) => ({ ...options.start, instruction }))].slice(0, options.budget);
  for (const template of seedTemplates)
    if (!search.has(template)) search.add({ type: "candidate", id: `c${search.candidates.length}`, template, source: "seed" });
  const sizes = rungSizes(options.devItems, options.budget, options.firstRungItems);
  // Rung 0: every candidate, the rewriter proposing from the best so far until the budget is spent.
  for (const candidate of [...search.candidates]) if (!candidate.rejected) await search.score(candidate, 0, sizes[0]!);
  while (search.candidates.length < options.budget && options.rewriter) {
    const ranked = search.ranked(0);
    const proposal = await search.propose(ranked[0]!.candidate, ranked);
    if (!proposal.rejected) await search.score(proposal, 0, sizes[0]!);
  }
  // Later rungs: the better half, on twice the items, until the whole dev split.
  let survivors = uniqueTemplates(search.ranked(0).map((entry) => entry.candidate));
  for (let rung = 1; rung < sizes.length; rung++) {
    survivors = survivors.slice(0, Math.max(1, Math.ceil(survivors.length / 2)));
    for (const candidate of survivors) await search.score(candidate, rung, sizes[rung]!);
    survivors = search.ranked(rung).map((entry) => entry.candidate).filter((candidate) => survivors.includes(candidate));
  }
  const last = sizes.length - 1;
  const start = search.candidates[0]!;
  const startScore = await search.score(start, last, sizes[last]!);
  const best = survivors[0] ?? start;
  const bestScore = search.scores.get(`${best.id}@${last}`)!;
  return {
    best: bestScore.mean >= startScore.mean ? best : start,
    bestScore: bestScore.mean >= startScore.mean ? bestScore : startScore,
    startScore,
    candidates: search.candidates,
    scores: [...search.scores.values()],
    cost: { rewriteCalls: search.rewriteCalls, rewriteTokens: search.rewriteTokens, scoringTokens: search.scoringTokens, scoredRungs: search.scoredRungs },
  };
}

/** Candidates whose templates repeat an earlier one (a rewriter's repeat) are not scored again. */
function uniqueTemplates(candidates: CandidateRecord[]): CandidateRecord[] {
  const seen = new Set<string>();
  return candidates.filter((candidate) => {
    const key = JSON.stringify(candidate.template);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
