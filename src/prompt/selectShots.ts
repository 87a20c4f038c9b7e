/**
 * Few-shot selection: which solved examples go in front of a question. Random (seeded), kNN by
 * similarity through the `Retriever` slot (BM25 today, dense or hybrid retrievers through the same
 * slot), MMR (relevance minus redundancy with the shots already picked, Carbonell & Goldstein 1998),
 * label-balanced for MCQ (gold letters spread evenly), and the benchmarks' subject-first order. Shots
 * come only from the pool given (a dev/train split); `ShotPool` drops any pool item that overlaps a
 * test item (src/data/decontaminate.ts) before selection, so a test item can never be a shot.
 */
import { Decontaminator, type EvalItem } from "../data/decontaminate.js";
import { textUnits } from "../data/textUnits.js";
import type { Retriever } from "../llm/retriever.js";
import { ConfigError } from "../shared/errors.js";
import { SeededRandom } from "../shared/seededRandom.js";
import type { ShotSelection } from "./promptTemplate.js";

/** A solved example as selection sees it; `T` is the task's own item (an McqItem, a conversation). */
export interface ShotCandidate<T> {
  id: string;
  /** Text that similarity is measured on (the question, with options for MCQ). */
  text: string;
  /** Gold label for label balancing (the MCQ letter); undefined for open answers. */
  label?: string;
  subject?: string;
  item: T;
}

/** Passages for a retriever over the pool: the passage's source (documentId) is the shot's id. */
export function shotPassages<T>(pool: readonly ShotCandidate<T>[]): { id: string; documentId: string; text: string }[] {
  return pool.map((shot) => ({ id: shot.id, documentId: shot.id, text: shot.text }));
}

export interface SelectShotsOptions {
  selection: ShotSelection;
  k: number;
  /** Over the pool's texts (see shotPassages); needed by knn, mmr and (for its order) balanced. */
  retriever?: Retriever;
  /** For random (and balanced without a retriever). Defaults to 0. */
  seed?: number;
  /** MMR's weight on relevance against redundancy. Defaults to 0.5 (the usual middle). */
  mmrLambda?: number;
}

/** The dev/train pool with every item that overlaps a test item removed (and counted). */
export class ShotPool<T> {
  readonly shots: readonly ShotCandidate<T>[];
  /** Pool items dropped because their text overlaps a test item. */
  readonly dropped: readonly { id: string; testItem: string }[];
  private readonly byId: Map<string, ShotCandidate<T>>;

  constructor(pool: readonly ShotCandidate<T>[], testItems: readonly EvalItem[]) {
    const detector = new Decontaminator(testItems);
    const kept: ShotCandidate<T>[] = [];
    const dropped: { id: string; testItem: string }[] = [];
    for (const shot of pool) {
      const match = detector.matches(shot.text)[0];
      if (match) dropped.push({ id: shot.id, testItem: `${match.file}#${match.item}` });
      else kept.push(shot);
    }
    this.shots = kept;
    this.dropped = dropped;
    this.byId = new Map(kept.map((shot) => [shot.id, shot]));
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): ShotCandidate<T> | undefined {
    return this.byId.get(id);
  }
}

function needRetriever(options: SelectShotsOptions): Retriever {
  if (!options.retriever)
    throw new ConfigError(`few-shot selection "${options.selection}" needs a retriever over the dev split`, {
      where: "fewShot.selection",
      hint: "Build one with shotPassages(pool) (the lab and eval run do), or use random / subject-first.",
    });
  return options.retriever;
}

/** Pool shots ranked by the retriever's similarity to `query`, best first, with their scores. */
async function ranked<T>(pool: ShotPool<T>, query: ShotCandidate<T>, options: SelectShotsOptions) {
  // Ask for the whole pool: filtered items (decontaminated, the query itself) must not shorten the list.
  const found = await needRetriever(options).retrieve(query.text, pool.shots.length + 1);
  const seen = new Set<string>();
  const result: { shot: ShotCandidate<T>; score: number }[] = [];
  for (const passage of found) {
    const shot = pool.get(passage.source);
    if (!shot || shot.id === query.id || seen.has(shot.id)) continue;
    seen.add(shot.id);
    result.push({ shot, score: passage.score });
  }
  // Shots sharing no term with the query come last (score 0), so k shots come whenever the pool has k.
  for (const shot of pool.shots) if (shot.id !== query.id && !seen.has(shot.id)) result.push({ shot, score: 0 });
  return result;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = new SeededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** Jaccard similarity of two texts' unit sets: the redundancy measure of MMR. */
function overlap(a: string, b: string): number {
  const left = new Set(textUnits(a));
  const right = new Set(textUnits(b));
  let shared = 0;
  for (const unit of left) if (right.has(unit)) shared++;
  const union = left.size + right.size - shared;
  return union === 0 ? 0 : shared / union;
}

function maximalMarginalRelevance<T>(candidates: { shot: ShotCandidate<T>; score: number }[], k: number, lambda: number) {
  // Relevance scaled to [0, 1] so that it and the Jaccard redundancy are on one scale.
  const top = Math.max(...candidates.map((candidate) => candidate.score), Number.MIN_VALUE);
  const remaining = candidates.map((candidate) => ({ ...candidate, relevance: candidate.score / top }));
  const picked: ShotCandidate<T>[] = [];
  while (picked.length < k && remaining.length > 0) {
    let best = 0;
    let bestValue = -Infinity;
    remaining.forEach((candidate, index) => {
      const redundancy = Math.max(0, ...picked.map((shot) => overlap(shot.text, candidate.shot.text)));
      const value = lambda * candidate.relevance - (1 - lambda) * redundancy;
      if (value > bestValue) [best, bestValue] = [index, value];
    });
    picked.push(remaining.splice(best, 1)[0]!.shot);
  }
  return picked;
}

/** Round-robin over labels, each label's shots in the given order: gold letters as even as the pool allows. */
function labelBalanced<T>(ordered: readonly ShotCandidate<T>[], k: number): ShotCandidate<T>[] {
  const byLabel = new Map<string, ShotCandidate<T>[]>();
  for (const shot of ordered) {
    const label = shot.label ?? "";
    byLabel.set(label, [...(byLabel.get(label) ?? []), shot]);
  }
  const queues = [...byLabel.values()];
  const picked: ShotCandidate<T>[] = [];
  for (let round = 0; picked.length < k && queues.some((queue) => queue.length > round); round++)
    for (const queue of queues) if (queue[round] && picked.length < k) picked.push(queue[round]!);
  return picked;
}

/** The k shots for `query` from `pool` (never the query itself, never a pool item overlapping a test item). */
export async function selectShots<T>(query: ShotCandidate<T>, pool: ShotPool<T>, options: SelectShotsOptions): Promise<ShotCandidate<T>[]> {
  const { k, selection } = options;
  if (k <= 0) return [];
  const others = pool.shots.filter((shot) => shot.id !== query.id);
  switch (selection) {
    case "subject-first":
      return [...others.filter((shot) => shot.subject === query.subject), ...others.filter((shot) => shot.subject !== query.subject)].slice(0, k);
    case "random":
      return shuffled(others, options.seed ?? 0).slice(0, k);
    case "knn":
      return (await ranked(pool, query, options)).slice(0, k).map((entry) => entry.shot);
    case "mmr":
      return maximalMarginalRelevance(await ranked(pool, query, options), k, options.mmrLambda ?? 0.5);
    case "balanced": {
      const order = options.retriever ? (await ranked(pool, query, options)).map((entry) => entry.shot) : shuffled(others, options.seed ?? 0);
      return labelBalanced(order, k);
    }
  }
}
