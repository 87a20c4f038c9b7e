/**
 * A small but real results folder for report tests and demos: per-item JSONL and summary.json in
 * the format of docs/eval-results.md, accuracies and intervals computed with the same bootstrap
 * as `vertical eval run`, plus an open-ended set run through runOpenEval with scripted models.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../shared/atomicWrite.js";
import { runOpenEval } from "../open/runOpenEval.js";
import {
  appendItemRecord,
  itemsFile,
  RESULTS_FORMAT_VERSION,
  type EvalSummary,
  type McqItemRecord,
  type ResultRow,
} from "../results.js";
import { bootstrapMeanCi, bootstrapPairedDeltaCi } from "../stats/bootstrap.js";
import { seededRandom } from "../../shared/seededRandom.js";
import { RecordingChatModel } from "../testing/recordingChatModel.js";

export interface FixtureSystem {
  name: string;
  /** Probability of a correct answer per set. */
  accuracy: Record<string, number>;
  trainingTokens?: number;
  trainingSeconds?: number;
}

export async function writeFixtureResults(
  outDir: string,
  systems: FixtureSystem[],
  sets: Array<{ name: string; general: boolean; n: number }>,
  seed = 1,
): Promise<EvalSummary> {
  fs.mkdirSync(outDir, { recursive: true });
  const random = seededRandom(seed);
  const outcomes = new Map<string, number[]>();
  const results: ResultRow[] = [];
  for (const system of systems)
    for (const set of sets) {
      const correctness: number[] = [];
      for (let i = 0; i < set.n; i++) {
        const correct = random() < system.accuracy[set.name]!;
        correctness.push(correct ? 1 : 0);
        const record: McqItemRecord = {
          id: `${set.name}-${i}`,
          set: set.name,
          system: system.name,
          subject: i % 2 ? "rules" : "terms",
          kind: "mcq",
          row: i + 2,
          prompt: `Question ${i}`,
          letters: ["A", "B", "C", "D"],
          gold: "A",
          prediction: correct ? "A" : "B",
          correct,
          tokens: { prompt: 40, completion: 1 },
          wallMs: 20,
        };
        appendItemRecord(itemsFile(outDir, system.name, set.name), record);
      }
      outcomes.set(`${system.name}/${set.name}`, correctness);
      results.push({
        system: system.name,
        set: set.name,
        kind: "mcq",
        general: set.general,
        status: "complete",
        error: null,
        scoring: "letter",
        templateApplied: true,
        shots: 0,
        n: set.n,
        total: set.n,
        accuracy: bootstrapMeanCi(correctness),
        accuracyNorm: null,
        perSubject: {},
        unanswered: 0,
        tokens: { prompt: 40 * set.n, completion: set.n },
        wallSeconds: 0.02 * set.n,
      });
    }
  const base = systems[0]!.name;
  const forgetting = systems.slice(1).flatMap((system) =>
    sets
      .filter((s) => s.general)
      .map((set) => {
        const mine = outcomes.get(`${system.name}/${set.name}`)!;
        const theirs = outcomes.get(`${base}/${set.name}`)!;
        const delta = bootstrapPairedDeltaCi(mine, theirs);
        const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
        return {
          system: system.name,
          set: set.name,
          metric: "accuracy" as const,
          score: mean(mine),
          baseScore: mean(theirs),
          delta: delta.value,
          ci95: delta.ci95,
          n: set.n,
        };
      }),
  );
  const summary: EvalSummary = {
    formatVersion: RESULTS_FORMAT_VERSION,
    name: "harbor",
    createdAt: "2026-11-25T23:40:00.000Z",
    updatedAt: "2026-11-25T23:45:00.000Z",
    complete: true,
    baseSystem: base,
    systems: systems.map((s, i) => ({
      name: s.name,
      isBase: i === 0,
      backend: "llama-cpp",
      model: "models/tiny.gguf",
      adapters: i === 0 ? [] : [{ path: `runs/${s.name}/adapter.gguf`, scale: 1 }],
      id: `llama-cpp:tiny.gguf${i === 0 ? "" : `+lora:${s.name}`}`,
      scoring: "letter",
      templateApplied: true,
      trainingTokens: s.trainingTokens ?? null,
      trainingSeconds: s.trainingSeconds ?? null,
    })),
    sets: sets.map((s) => ({ name: s.name, kind: "mcq", general: s.general, path: `data/${s.name}.csv`, n: s.n })),
    results,
    forgetting,
  };
  writeFileAtomic(path.join(outDir, "summary.json"), JSON.stringify(summary, null, 2));

  // Open-ended: the fine-tuned system knows the answers, the base does not.
  const questions = [
    {
      id: "o1",
      question: "What does the harbour master approve?",
      references: ["The harbour master approves berth allocation."],
    },
    { id: "o2", question: "引航员何时登船？", references: ["引航员在锚地登船。"] },
    { id: "o3", question: "Name the fee charged per ton.", references: ["The port dues are charged per ton."] },
  ];
  const answers: Record<string, string> = {
    o1: "The harbour master approves berth allocation.",
    o2: "引航员在锚地登船。",
    o3: "Port dues, per ton of cargo.",
  };
  const open = systems.map((s, i) => ({
    name: s.name,
    model: new RecordingChatModel(`fake:${s.name}`, (messages) => {
      const question = questions.find((q) => messages.at(-1)!.content === q.question)!;
      return i === 0 ? "I am not sure." : answers[question.id]!;
    }),
  }));
  const judge = new RecordingChatModel("fake:judge", (messages) => {
    const text = messages.at(-1)!.content;
    if (text.includes("Assistant A's Answer")) {
      const a = text.split("[The Start of Assistant A's Answer]\n")[1]!.split("\n[The End")[0]!;
      const b = text.split("[The Start of Assistant B's Answer]\n")[1]!.split("\n[The End")[0]!;
      return a === b ? "[[C]]" : a.includes("not sure") ? "[[B]]" : b.includes("not sure") ? "[[A]]" : "[[C]]";
    }
    return text.includes("not sure") ? "Rating: [[2]]" : "Rating: [[8]]";
  });
  let clock = 0;
  await runOpenEval({ set: "harbor-open", questions, systems: open, outDir, judge, now: () => (clock += 500) });
  return summary;
}
