/**
 * `vertical eval run`: every system on every set of an eval spec, into a results folder
 * (docs/eval-results.md). Runs are resumable: each scored item is appended to
 * items/<system>/<set>.jsonl at once, and a rerun skips the ids already there. A system that fails
 * (unreachable endpoint, missing scorer) is recorded as failed with its message; the other systems still
 * run and every finished item stays on disk.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pLimit from "p-limit";
import YAML from "yaml";
import type { ChatLetterScorer } from "../llm/chatLetterScorer.js";
import type { RetrievedPassage, Retriever } from "../llm/retriever.js";
import type { ChatMessage, ContinuationScore } from "../llm/types.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { BackendError, ConfigError, InterruptedError, VerticalError } from "../shared/errors.js";
import {
  buildMcqPrompt,
  detectLanguage,
  selectExemplars,
  type McqPrompt,
  type ScoringMode,
} from "./mcq/buildPrompt.js";
import { extractAnswerLetter } from "./mcq/extractAnswer.js";
import { mcqEvalItems, mcqShotCandidate } from "./mcq/mcqShots.js";
import { calibratedPrediction, contentFreeItems } from "./mcq/calibrateMcq.js";
import { selectShots, shotPassages, ShotPool } from "../prompt/selectShots.js";
import { loadMcq } from "./mcq/loadMcq.js";
import { readOpenQuestions } from "./open/questions.js";
import { argmax, codePointLength, predictFromLoglikelihoods } from "./mcq/scoreChoices.js";
import type { McqItem } from "./mcq/types.js";
import {
  appendItemRecord,
  itemsFile,
  readItemRecords,
  RESULTS_FORMAT_VERSION,
  type EvalSummary,
  type ForgettingRow,
  type McqItemRecord,
  type OptionScore,
  type ResultRow,
  type SystemSummary,
} from "./results.js";
import { systemChatTemplate, systemPromptTemplate, systemShots, type EvalSpec, type SetSpec, type SystemSpec } from "./spec.js";
import { bootstrapMeanCi, bootstrapPairedDeltaCi } from "./stats/bootstrap.js";
import { createSystemBackend, type CreateSystemBackend, type SystemBackend } from "./systemBackend.js";

export interface EvalProgress {
  /** For open-ended sets: "all" while answering, "judge" while judging. */
  system: string;
  set: string;
  /** Items of this (system, set) finished, including those from earlier runs. */
  done: number;
  total: number;
  correct: number;
  /** "start" before the first item of a (system, set), "item" after each, "end" when it finished or failed. */
  phase: "start" | "item" | "end";
}

export interface RunEvaluationOptions {
  outDir: string;
  onProgress?: (progress: EvalProgress) => void;
  /** Aborting stops after the items in flight; they are kept and a rerun resumes. */
  signal?: AbortSignal;
  /** Builds backends; defaults to createSystemBackend (llama-cpp, openai, engine). */
  createBackend?: CreateSystemBackend;
  /** Gives systems with a `retrieval` block their Retriever (the rag/lab code provides it). */
  resolveRetriever?: (systemName: string, retrieval: Record<string, unknown>) => Promise<Retriever>;
  /**
   * A retriever over a set's dev split (passages whose documentId is the item id), for templates whose
   * fewShot.selection is knn, mmr or balanced; the CLI and the lab give BM25 (src/rag).
   */
  shotRetriever?: (passages: { id: string; documentId: string; text: string }[]) => Retriever;
  /** Injectable clock for wall times. */
  now?: () => number;
}

/** Items per score() call for the engine, which batches them into shared forward passes. */
const ENGINE_CHUNK_ITEMS = 8;

interface LoadedSet {
  spec: SetSpec;
  items: McqItem[];
  dev: McqItem[];
  /** The dev split without items overlapping the test items, with its retriever; built on first use. */
  shots?: { pool: ShotPool<McqItem>; retriever: Retriever | undefined };
}

/** The scoring mode a system uses: its own, else generate for an endpoint without logprobs, else letter. */
export function scoringModeOf(system: SystemSpec): ScoringMode {
  return system.scoring ?? (system.backend === "openai" && !system.logprobs ? "generate" : "letter");
}

function loadSets(spec: EvalSpec): LoadedSet[] {
  return spec.sets
    .filter((set) => set.kind === "mcq")
    .map((set) => {
      const format = set.format;
      const all = loadMcq(set.path, { format, ...(set.subject ? { subject: set.subject } : {}) });
      const items = set.limit ? all.slice(0, set.limit) : all;
      const dev = set.dev ? loadMcq(set.dev, { format, ...(set.subject ? { subject: set.subject } : {}) }) : [];
      return { spec: set, items, dev };
    });
}

/** Settings that change what an item's score means; a resumed run must not mix two of them. */
function fingerprint(system: SystemSpec, set: SetSpec): string {
  const relevant = {
    backend: system.backend,
    model: system.model,
    adapters: system.adapters,
    softPrompt: system.softPrompt ?? null,
    systemPrompt: system.systemPrompt ?? null,
    // Only when set, so results folders made before templates existed still resume.
    ...(system.prompt ? { prompt: system.prompt } : {}),
    chatTemplate: systemChatTemplate(system),
    shots: systemShots(system, set),
    scoring: scoringModeOf(system),
    retrieval: system.retrieval ?? null,
    set: { path: set.path, dev: set.dev ?? null, language: set.language, format: set.format },
  };
  return createHash("sha256").update(JSON.stringify(relevant)).digest("hex").slice(0, 16);
}

function checkResumable(outDir: string, spec: EvalSpec): Record<string, string> {
  const manifestFile = path.join(outDir, "manifest.json");
  const fingerprints: Record<string, string> = {};
  for (const system of spec.systems)
    for (const set of spec.sets) fingerprints[`${system.name}/${set.name}`] = fingerprint(system, set);
  if (!fs.existsSync(manifestFile)) return fingerprints;
  const previous = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as { fingerprints?: Record<string, string> };
  for (const [key, value] of Object.entries(fingerprints)) {
    const before = previous.fingerprints?.[key];
    const [system, set] = key.split("/") as [string, string];
    if (before && before !== value && readItemRecords(itemsFile(outDir, system, set)).length > 0)
      throw new ConfigError(`system "${system}" on set "${set}" was run with other settings in this folder`, {
        where: outDir,
        hint: `Use a new --out folder, or delete ${path.join("items", system, `${set}.jsonl`)} to score it again with the new settings.`,
      });
  }
  return { ...previous.fingerprints, ...fingerprints };
}

interface ItemContext {
  system: SystemSpec;
  set: LoadedSet;
  backend: SystemBackend;
  mode: ScoringMode;
  templateApplied: boolean;
  shots: number;
  retriever: Retriever | undefined;
  shotRetriever: RunEvaluationOptions["shotRetriever"];
  /** Content-free option log-likelihoods by prompt text (contextual calibration). */
  calibrationCache: Map<string, number[]>;
  now: () => number;
  signal: AbortSignal | undefined;
}

/**
 * Exemplars for `item`: the benchmarks' subject-first order from the dev split, as before templates;
 * a template's `fewShot.selection` picks them instead from the dev split minus anything overlapping a
 * test item (src/prompt/selectShots.ts).
 */
async function exemplarsFor(item: McqItem, context: ItemContext): Promise<McqItem[]> {
  const { set, shots } = context;
  const selection = context.system.prompt?.fewShot?.selection;
  if (!selection || shots === 0) return selectExemplars(item, set.dev, shots);
  if (!set.shots) {
    const pool = new ShotPool(set.dev.map(mcqShotCandidate), mcqEvalItems(set.items));
    set.shots = { pool, retriever: context.shotRetriever?.(shotPassages(pool.shots)) };
  }
  const picked = await selectShots(mcqShotCandidate(item), set.shots.pool, {
    selection,
    k: shots,
    ...(set.shots.retriever ? { retriever: set.shots.retriever } : {}),
  });
  return picked.map((shot) => shot.item);
}

interface PreparedItem {
  item: McqItem;
  prompt: McqPrompt;
  messages: ChatMessage[];
  rawText: string;
  /** What is scored (templated text when the template applies). */
  contextText: string;
  base: Omit<McqItemRecord, "prompt" | "prediction" | "correct" | "tokens" | "wallMs">;
  exemplars: McqItem[];
}

async function prepareItem(item: McqItem, context: ItemContext, exemplars?: McqItem[]): Promise<PreparedItem> {
  const { system, set, backend, mode, templateApplied } = context;
  const language = set.spec.language === "auto" ? detectLanguage(item) : set.spec.language;
  const retrieved: RetrievedPassage[] = context.retriever
    ? await context.retriever.retrieve(item.question, Number(system.retrieval?.k ?? 4))
    : [];
  const shots = exemplars ?? (await exemplarsFor(item, context));
  const prompt = buildMcqPrompt({
    item,
    exemplars: shots,
    language,
    mode,
    retrieved,
    templateApplied,
    template: systemPromptTemplate(system),
  });
  const { messages, rawText } = prompt;
  const contextText =
    mode !== "generate" && templateApplied && backend.renderChatPrompt ? backend.renderChatPrompt(messages) : rawText;
  const base = {
    id: item.id,
    set: set.spec.name,
    system: system.name,
    subject: item.subject,
    kind: "mcq" as const,
    row: item.source.row,
    letters: item.options.map((option) => option.letter),
    gold: item.answer,
    ...(retrieved.length > 0 ? { retrieved } : {}),
    templateApplied,
  };
  return { item, prompt, messages, rawText, contextText, base, exemplars: shots };
}

async function generateItem(prepared: PreparedItem, context: ItemContext, started: number): Promise<McqItemRecord> {
  const { system, backend, templateApplied } = context;
  const chat = backend.chat!;
  const maxTokens = system.maxTokens ?? 512;
  const generation = templateApplied
    ? await chat.chat(prepared.messages, { maxTokens, signal: context.signal })
    : await chat.complete(prepared.rawText, { maxTokens, signal: context.signal });
  const prediction = extractAnswerLetter(generation.text, prepared.base.letters);
  return {
    ...prepared.base,
    prompt: templateApplied ? JSON.stringify(prepared.messages) : prepared.rawText,
    prediction,
    correct: prediction === prepared.item.answer,
    generation: generation.text,
    ...(generation.toolUse ? { toolUse: generation.toolUse } : {}),
    tokens: { prompt: generation.usage.promptTokens, completion: generation.usage.completionTokens },
    wallMs: context.now() - started,
  };
}

function scoredRecord(
  prepared: PreparedItem,
  results: ContinuationScore[],
  mode: ScoringMode,
  wallMs: number,
): McqItemRecord {
  const { prompt, item } = prepared;
  const choices = prompt.continuations.map((continuation) => continuation.choice);
  const { prediction, predictionNorm } = predictFromLoglikelihoods(
    results.map((result) => result.logprob),
    choices,
  );
  const scores: Record<string, OptionScore> = {};
  prompt.continuations.forEach((continuation, i) => {
    const result = results[i]!;
    scores[continuation.letter] = {
      logprob: result.logprob,
      tokenCount: result.tokenCount,
      isGreedy: result.isGreedy,
      ...(mode === "option" ? { chars: codePointLength(continuation.choice) } : {}),
    };
  });
  const letter = (index: number) => prompt.continuations[index]!.letter;
  const promptTokens = results.reduce((sum, result) => sum + (result.contextTokenCount ?? 0) + result.tokenCount, 0);
  return {
    ...prepared.base,
    prompt: prepared.contextText,
    prediction: letter(prediction),
    correct: letter(prediction) === item.answer,
    ...(mode === "option"
      ? { predictionNorm: letter(predictionNorm), correctNorm: letter(predictionNorm) === item.answer }
      : {}),
    scores,
    tokens: { prompt: promptTokens, completion: 0 },
    wallMs,
  };
}

/** Letter scoring from the first reply token's alternatives through chat (the server applies its template). */
async function chatLetterItem(
  prepared: PreparedItem,
  scorer: ChatLetterScorer,
  started: number,
  now: () => number = () => performance.now(),
): Promise<McqItemRecord> {
  const letters = prepared.base.letters;
  const { logprobs, usage } = await scorer.firstTokenLogprobs(prepared.messages, letters);
  // An option missing from the returned alternatives is less likely than any returned one.
  const ranked = logprobs.map((logprob) => logprob ?? -Infinity);
  const best = argmax(ranked);
  const prediction = ranked[best] === -Infinity ? null : letters[best]!;
  const scores: Record<string, OptionScore> = {};
  letters.forEach((letter, i) => {
    scores[letter] = { logprob: logprobs[i]!, tokenCount: 1, isGreedy: prediction === letter };
  });
  return {
    ...prepared.base,
    prompt: JSON.stringify(prepared.messages),
    prediction,
    correct: prediction === prepared.item.answer,
    scores,
    tokens: { prompt: usage.promptTokens, completion: usage.completionTokens },
    wallMs: now() - started,
  };
}

/**
 * Scores a chunk of items: generation item by item; log-likelihood scoring in one `score` call for
 * the whole chunk, so a batching scorer (the engine) can evaluate several items per pass. Each item's
 * wall time is its share of the chunk's.
 */
async function scoreItems(items: McqItem[], context: ItemContext): Promise<McqItemRecord[]> {
  const started = context.now();
  const prepared: PreparedItem[] = [];
  for (const item of items) prepared.push(await prepareItem(item, context));
  if (context.mode === "generate") {
    const records: McqItemRecord[] = [];
    for (const entry of prepared) records.push(await generateItem(entry, context, context.now()));
    return records;
  }
  if (!context.backend.scorer && context.backend.chatLetters) {
    const records: McqItemRecord[] = [];
    for (const entry of prepared)
      records.push(await chatLetterItem(entry, context.backend.chatLetters, context.now(), context.now));
    return records;
  }
  const requests = prepared.flatMap((entry) =>
    entry.prompt.continuations.map((continuation) => ({ context: entry.contextText, continuation: continuation.text })),
  );
  const results = await context.backend.scorer!.score(requests);
  const wallMs = (context.now() - started) / items.length;
  let offset = 0;
  const records = prepared.map((entry) => {
    const count = entry.prompt.continuations.length;
    const record = scoredRecord(entry, results.slice(offset, offset + count), context.mode, wallMs);
    offset += count;
    return record;
  });
  if (context.system.prompt?.calibration !== "contextual") return records;
  const calibrated: McqItemRecord[] = [];
  for (const [i, record] of records.entries()) calibrated.push(await calibrateRecord(record, prepared[i]!, context));
  return calibrated;
}

/**
 * The record's prediction after contextual calibration. The content-free prompts share the item's
 * exemplars and template, so their scores are cached by context text: zero-shot, one subject costs
 * three prompts for the whole set.
 */
async function calibrateRecord(record: McqItemRecord, entry: PreparedItem, context: ItemContext): Promise<McqItemRecord> {
  const contentFree: number[][] = [];
  for (const variant of contentFreeItems(entry.item, context.mode === "option" ? "option" : "letter")) {
    const prompt = await prepareItem(variant, { ...context, retriever: undefined }, entry.exemplars);
    const key = `${prompt.contextText}\u0000${prompt.prompt.continuations.map((continuation) => continuation.text).join("\u0000")}`;
    let logprobs = context.calibrationCache.get(key);
    if (!logprobs) {
      const scored = await context.backend.scorer!.score(prompt.prompt.continuations.map((continuation) => ({ context: prompt.contextText, continuation: continuation.text })));
      context.calibrationCache.set(key, (logprobs = scored.map((score) => score.logprob)));
    }
    contentFree.push(logprobs);
  }
  const letters = record.letters;
  const { index, bias } = calibratedPrediction(letters.map((letter) => record.scores![letter]!.logprob ?? -Infinity), contentFree);
  return {
    ...record,
    prediction: letters[index]!,
    correct: letters[index] === entry.item.answer,
    calibration: { bias: Object.fromEntries(letters.map((letter, i) => [letter, bias[i]!])), uncalibrated: record.prediction },
  };
}

function summariseRow(
  system: SystemSpec,
  set: LoadedSet,
  records: McqItemRecord[],
  status: ResultRow["status"],
  error: string | null,
  templateApplied: boolean,
): ResultRow {
  const mode = scoringModeOf(system);
  const scored = inSetOrder(records, set);
  const bySubject = new Map<string, number[]>();
  for (const record of scored) {
    const outcomes = bySubject.get(record.subject) ?? [];
    outcomes.push(record.correct ? 1 : 0);
    bySubject.set(record.subject, outcomes);
  }
  const perSubject: ResultRow["perSubject"] = {};
  for (const [subject, outcomes] of [...bySubject].sort(([a], [b]) => a.localeCompare(b)))
    perSubject[subject] = { n: outcomes.length, accuracy: bootstrapMeanCi(outcomes) };
  return {
    system: system.name,
    set: set.spec.name,
    kind: "mcq",
    general: set.spec.general,
    status,
    error,
    scoring: mode,
    templateApplied,
    shots: systemShots(system, set.spec),
    n: scored.length,
    total: set.items.length,
    accuracy: scored.length ? bootstrapMeanCi(scored.map((record) => (record.correct ? 1 : 0))) : null,
    accuracyNorm:
      mode === "option" && scored.length ? bootstrapMeanCi(scored.map((record) => (record.correctNorm ? 1 : 0))) : null,
    perSubject,
    unanswered: scored.filter((record) => record.prediction === null).length,
    tokens: {
      prompt: scored.reduce((sum, record) => sum + record.tokens.prompt, 0),
      completion: scored.reduce((sum, record) => sum + record.tokens.completion, 0),
    },
    wallSeconds: scored.reduce((sum, record) => sum + record.wallMs, 0) / 1000,
  };
}

/**
 * The records of the set's items in the set's order. Records are appended as items finish, which
 * with concurrent requests (several endpoints) is any order; the seeded bootstrap draws by
 * position, so summarising in file order would give another interval for the same results.
 */
function inSetOrder<T extends { id: string }>(records: T[], set: LoadedSet): T[] {
  const position = new Map(set.items.map((item, index) => [item.id, index]));
  return records.filter((record) => position.has(record.id)).sort((a, b) => position.get(a.id)! - position.get(b.id)!);
}

function forgettingRows(spec: EvalSpec, sets: LoadedSet[], outDir: string): ForgettingRow[] {
  const rows: ForgettingRow[] = [];
  for (const set of sets.filter((candidate) => candidate.spec.general)) {
    const baseRecords = new Map(
      readItemRecords(itemsFile(outDir, spec.baseSystem, set.spec.name)).map((record) => [record.id, record]),
    );
    for (const system of spec.systems) {
      if (system.name === spec.baseSystem) continue;
      const pairs = inSetOrder(readItemRecords(itemsFile(outDir, system.name, set.spec.name)), set)
        .filter((record) => baseRecords.has(record.id))
        .map((record) => [record.correct ? 1 : 0, baseRecords.get(record.id)!.correct ? 1 : 0] as const);
      if (pairs.length === 0) continue;
      const score = pairs.reduce((sum, [value]) => sum + value, 0) / pairs.length;
      const baseScore = pairs.reduce((sum, [, value]) => sum + value, 0) / pairs.length;
      const delta = bootstrapPairedDeltaCi(
        pairs.map(([value]) => value),
        pairs.map(([, value]) => value),
      );
      rows.push({
        system: system.name,
        set: set.spec.name,
        metric: "accuracy",
        score,
        baseScore,
        delta: delta.value,
        ci95: delta.ci95,
        n: pairs.length,
      });
    }
  }
  return rows;
}

/** Whether a system's scored items went through the chat template, from their records; undefined when none say. */
function recordedTemplateApplied(outDir: string, system: string, sets: readonly string[]): boolean | undefined {
  for (const set of sets)
    for (const record of readItemRecords(itemsFile(outDir, system, set), { repair: true }))
      if (record.templateApplied !== undefined) return record.templateApplied;
  return undefined;
}

function errorMessage(error: unknown): string {
  return VerticalError.isInstance(error) || error instanceof Error ? error.message : String(error);
}

/** Runs an evaluation into `options.outDir` and returns its summary (also written to summary.json). */
export async function runEvaluation(spec: EvalSpec, options: RunEvaluationOptions): Promise<EvalSummary> {
  const { outDir } = options;
  const now = options.now ?? (() => performance.now());
  const createBackend = options.createBackend ?? createSystemBackend;
  // Everything that can be checked without a model is checked first, so bad input fails in seconds.
  const sets = loadSets(spec);
  const openSets = spec.sets
    .filter((set) => set.kind === "open")
    .map((set) => ({ spec: set, questions: readOpenQuestions(set.path) }));
  for (const system of spec.systems) {
    if (system.retrieval && !options.resolveRetriever)
      throw new ConfigError("the system declares `retrieval` but no retriever is available", {
        where: `system "${system.name}"`,
        hint: "Build the retrieval index first (vertical rag …) and run through the lab, or remove `retrieval`.",
      });
    if (!options.createBackend) (await import("./systemBackend.js")).checkSystemFiles(system);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const fingerprints = checkResumable(outDir, spec);
  const createdAt = new Date().toISOString();
  writeFileAtomic(
    path.join(outDir, "spec.yaml"),
    YAML.stringify({ name: spec.name, baseSystem: spec.baseSystem, systems: spec.systems, sets: spec.sets }),
  );
  writeFileAtomic(
    path.join(outDir, "manifest.json"),
    JSON.stringify(
      {
        formatVersion: RESULTS_FORMAT_VERSION,
        name: spec.name,
        createdAt,
        baseSystem: spec.baseSystem,
        systems: spec.systems.map((system) => system.name),
        sets: spec.sets.map((set) => set.name),
        fingerprints,
      },
      null,
      2,
    ) + "\n",
  );

  const systemSummaries: SystemSummary[] = spec.systems.map((system) => ({
    name: system.name,
    isBase: system.name === spec.baseSystem,
    backend: system.backend,
    model: system.model,
    adapters: system.adapters,
    id: null,
    scoring: scoringModeOf(system),
    templateApplied: false,
    trainingTokens: system.trainingTokens ?? null,
    trainingSeconds: system.trainingSeconds ?? null,
  }));
  const rows = new Map<string, ResultRow>();
  const rowKey = (system: string, set: string) => `${system}/${set}`;
  let interrupted = false;

  const writeSummary = (complete: boolean): EvalSummary => {
    const summary: EvalSummary = {
      formatVersion: RESULTS_FORMAT_VERSION,
      name: spec.name,
      createdAt,
      updatedAt: new Date().toISOString(),
      complete,
      baseSystem: spec.baseSystem,
      systems: systemSummaries,
      sets: [
        ...sets.map((set) => ({
          name: set.spec.name,
          kind: "mcq" as const,
          general: set.spec.general,
          path: set.spec.path,
          n: set.items.length,
        })),
        ...openSets.map((set) => ({
          name: set.spec.name,
          kind: "open" as const,
          general: set.spec.general,
          path: set.spec.path,
          n: set.questions.length,
        })),
      ],
      results: spec.systems.flatMap((system) =>
        sets.map((set) => rows.get(rowKey(system.name, set.spec.name))).filter((row) => row !== undefined),
      ),
      forgetting: forgettingRows(spec, sets, outDir),
    };
    writeFileAtomic(path.join(outDir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
    return summary;
  };

  for (const [systemIndex, system] of spec.systems.entries()) {
    if (interrupted) break;
    const mode = scoringModeOf(system);
    const summaryEntry = systemSummaries[systemIndex]!;
    // Sets this system has already finished need no backend at all (a resumed run skips loading it).
    const pending = sets.filter((set) => {
      const done = new Set(
        readItemRecords(itemsFile(outDir, system.name, set.spec.name), { repair: true }).map((record) => record.id),
      );
      return set.items.some((item) => !done.has(item.id));
    });
    let backend: SystemBackend | undefined;
    let retriever: Retriever | undefined;
    let failure: string | null = null;
    try {
      try {
        if (pending.length > 0) {
          backend = await createBackend(system);
          summaryEntry.id = backend.id;
          if (mode !== "generate" && !backend.scorer && !(mode === "letter" && backend.chatLetters))
            throw new ConfigError(
              `scoring "${mode}" needs log-probabilities, which backend ${backend.id} does not give`,
              {
                where: `system "${system.name}"`,
                hint: "Set `scoring: generate` (answer extraction) or use an endpoint that returns logprobs.",
              },
            );
          if (mode === "generate" && !backend.chat)
            throw new ConfigError(`backend ${backend.id} cannot generate text`, {
              where: `system "${system.name}"`,
              hint: "Use scoring: letter or option.",
            });
          if (system.retrieval) retriever = await options.resolveRetriever!(system.name, system.retrieval);
        }
      } catch (error) {
        failure = errorMessage(error);
      }
      // Chat template: applied for generation through chat(), and for scoring when the backend can render it.
      // Chat template: applied for generation through chat() and for chat first-token letters (the server's),
      // and for scoring when the backend can render it (llama-cpp).
      const viaChat =
        (mode === "generate" && systemChatTemplate(system) === "auto") ||
        (mode === "letter" && !backend?.scorer && Boolean(backend?.chatLetters ?? system.logprobs === "chat"));
      // Without a backend (every item scored earlier) the items themselves say how they were asked.
      const recorded = backend ? undefined : recordedTemplateApplied(outDir, system.name, sets.map((set) => set.spec.name));
      const templateApplied =
        recorded ??
        (viaChat ||
          (systemChatTemplate(system) === "auto" &&
            (backend ? Boolean(backend.renderChatPrompt) : system.backend === "llama-cpp")));
      summaryEntry.templateApplied = templateApplied;

      for (const set of sets) {
        const file = itemsFile(outDir, system.name, set.spec.name);
        const ids = new Set(set.items.map((item) => item.id));
        // Records of items no longer in the set (a smaller `limit`) stay in the file but do not count.
        const records = readItemRecords(file, { repair: true }).filter((record) => ids.has(record.id));
        const done = new Set(records.map((record) => record.id));
        const total = set.items.length;
        let correct = records.filter((record) => record.correct).length;
        const report = (phase: EvalProgress["phase"]) =>
          options.onProgress?.({ system: system.name, set: set.spec.name, done: done.size, total, correct, phase });
        report("start");
        const needsWork = set.items.some((item) => !done.has(item.id));
        let setFailure = failure && needsWork ? failure : null;
        if (!setFailure && !interrupted && needsWork) {
          const context: ItemContext = {
            system,
            set,
            backend: backend!,
            mode,
            templateApplied,
            shots: systemShots(system, set.spec),
            retriever,
            shotRetriever: options.shotRetriever,
            calibrationCache: new Map(),
            now,
            signal: options.signal,
          };
          const limit = pLimit(
            backend!.concurrency ?? (system.backend === "openai" ? (system.maxConcurrency ?? 4) : 1),
          );
          // The engine batches several items per forward pass when they come in one score() call.
          const chunkSize = mode !== "generate" && system.backend === "engine" ? ENGINE_CHUNK_ITEMS : 1;
          const pendingItems = set.items.filter((item) => !done.has(item.id));
          const chunks: McqItem[][] = [];
          for (let start = 0; start < pendingItems.length; start += chunkSize)
            chunks.push(pendingItems.slice(start, start + chunkSize));
          let stop = false;
          await Promise.all(
            chunks.map((chunk) =>
              limit(async () => {
                if (stop) return;
                if (options.signal?.aborted) {
                  interrupted = true;
                  stop = true;
                  return;
                }
                try {
                  for (const record of await scoreItems(chunk, context)) {
                    appendItemRecord(file, record);
                    records.push(record);
                    done.add(record.id);
                    if (record.correct) correct++;
                    report("item");
                  }
                } catch (error) {
                  const item = chunk[0]!;
                  const which =
                    chunk.length === 1
                      ? `${item.source.file}:${item.source.row} (item ${item.id})`
                      : `${item.source.file}:${item.source.row}.. (items ${chunk.map((entry) => entry.id).join(", ")})`;
                  if (options.signal?.aborted) interrupted = true;
                  else setFailure ??= `${which}: ${errorMessage(error)}`;
                  stop = true;
                }
              }),
            ),
          );
          // A failure of the backend itself (it is down, it cannot score) fails the system's other sets too.
          if (setFailure) failure = `not run after an earlier failure: ${setFailure}`;
        }
        const status: ResultRow["status"] =
          done.size >= total ? "complete" : setFailure && done.size === 0 ? "failed" : "partial";
        rows.set(
          rowKey(system.name, set.spec.name),
          summariseRow(system, set, records, status, status === "complete" ? null : setFailure, templateApplied),
        );
        report("end");
        writeSummary(false);
      }
    } finally {
      // Counts of this run only (a resumed run reports the requests it sent itself).
      if (backend?.endpointCounts) summaryEntry.endpoints = backend.endpointCounts();
      await backend?.dispose();
      await retriever?.dispose?.();
    }
  }

  const openFailures = interrupted ? [] : await runOpenSets(spec, options, createBackend);
  const complete =
    !interrupted && openFailures.length === 0 && [...rows.values()].every((row) => row.status === "complete");
  const summary = writeSummary(complete);
  if (openFailures.length > 0)
    throw new BackendError(
      `open-ended evaluation failed:\n${openFailures.map((failure) => `  ${failure}`).join("\n")}`,
      {
        where: outDir,
        hint: "Fix the cause and run again: answers already given are kept and not asked again.",
      },
    );
  if (interrupted)
    throw new InterruptedError("evaluation interrupted; finished items are saved", {
      where: outDir,
      hint: "Run the same command again to resume: finished items are not scored again.",
    });
  return summary;
}

/**
 * Open-ended sets (kind: open) through the open-ended module (open/runOpenEval.ts, its own resumable
 * files under open/): every system answers through chat(), the spec's judge (if any) judges. Returns
 * the failures, one line each.
 */
async function runOpenSets(
  spec: EvalSpec,
  options: RunEvaluationOptions,
  createBackend: CreateSystemBackend,
): Promise<string[]> {
  const openSets = spec.sets.filter((set) => set.kind === "open");
  if (openSets.length === 0) return [];
  const { runOpenEval } = await import("./open/runOpenEval.js");
  const failures: string[] = [];
  const backends: SystemBackend[] = [];
  try {
    const systems = [];
    for (const system of spec.systems) {
      try {
        const backend = await createBackend(system);
        backends.push(backend);
        if (!backend.chat)
          throw new ConfigError(`backend ${backend.id} cannot generate answers`, { where: `system "${system.name}"` });
        systems.push({
          name: system.name,
          model: backend.chat,
          ...(system.systemPrompt ? { systemPrompt: system.systemPrompt } : {}),
        });
      } catch (error) {
        failures.push(`system "${system.name}": ${errorMessage(error)}`);
      }
    }
    const judgeBackend = spec.judge ? await createBackend(spec.judge) : undefined;
    if (judgeBackend) backends.push(judgeBackend);
    if (systems.length === 0) return failures;
    const base = systems.some((system) => system.name === spec.baseSystem) ? spec.baseSystem : systems[0]!.name;
    for (const set of openSets) {
      try {
        await runOpenEval({
          set: set.name,
          questions: readOpenQuestions(set.path),
          systems,
          outDir: options.outDir,
          base,
          ...(judgeBackend?.chat ? { judge: judgeBackend.chat } : {}),
          onProgress: (done, total, stage) =>
            options.onProgress?.({
              system: stage === "judge" ? "judge" : "all",
              set: set.name,
              done,
              total,
              correct: 0,
              phase: done === total ? "end" : "item",
            }),
        });
      } catch (error) {
        failures.push(`set "${set.name}": ${errorMessage(error)}`);
      }
    }
  } finally {
    for (const backend of backends) await backend.dispose();
  }
  return failures;
}
