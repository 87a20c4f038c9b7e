/**
 * Agreement computed from stored ratings: between every two raters who rated the same tasks, and
 * between a judge and the people. Preferences are compared as nominal labels (Cohen's kappa),
 * scores as ordinal (quadratic weighted kappa) and by rank (Spearman), one row per criterion
 * (a rubric's correctness is never compared with another rater's fluency). Pairs are normalised to
 * one system order first, so "A" from one rater and "B" from another on the swapped pair agree.
 */
import { cohenKappa, spearman, weightedKappa } from "../stats/agreement.js";
import type { Rating, ScoreCriterion } from "./ratingsStore.js";

export interface RaterAgreement {
  raterA: string;
  raterB: string;
  kind: "preference" | "score";
  /** Scores only: which criterion both scored ("overall" for a single score). */
  criterion?: ScoreCriterion;
  /** Tasks both rated. */
  n: number;
  kappa: number;
  /** Scores only: quadratic weighted kappa over 1..5. */
  weightedKappa?: number;
  /** Scores only. NaN when one rater gave the same score everywhere. */
  spearman?: number;
}

type Label = "first" | "second" | "tie";

/** Key and label with the two systems in sorted order. */
function normalisedPreference(
  itemId: string,
  systemA: string,
  systemB: string,
  winner: "A" | "B" | "tie",
): [string, Label] {
  const swapped = systemA > systemB;
  const [first, second] = swapped ? [systemB, systemA] : [systemA, systemB];
  const label: Label = winner === "tie" ? "tie" : (winner === "A") !== swapped ? "first" : "second";
  return [`${itemId}\u0000${first}\u0000${second}`, label];
}

function byRater(ratings: readonly Rating[]) {
  const preferences = new Map<string, Map<string, Label>>();
  /** rater -> criterion -> answer -> score */
  const scores = new Map<string, Map<ScoreCriterion, Map<string, number>>>();
  for (const rating of ratings) {
    if (rating.kind === "preference") {
      const [key, label] = normalisedPreference(rating.itemId, rating.systemA, rating.systemB, rating.preference);
      if (!preferences.has(rating.rater)) preferences.set(rating.rater, new Map());
      preferences.get(rating.rater)!.set(key, label);
    } else {
      const byCriterion = scores.get(rating.rater) ?? new Map<ScoreCriterion, Map<string, number>>();
      scores.set(rating.rater, byCriterion);
      if (!byCriterion.has(rating.criterion)) byCriterion.set(rating.criterion, new Map());
      byCriterion.get(rating.criterion)!.set(`${rating.itemId}\u0000${rating.system}`, rating.score);
    }
  }
  return { preferences, scores };
}

function shared<T>(first: Map<string, T>, second: Map<string, T>): [T[], T[]] {
  const a: T[] = [];
  const b: T[] = [];
  for (const [key, value] of first)
    if (second.has(key)) {
      a.push(value);
      b.push(second.get(key)!);
    }
  return [a, b];
}

/** One row per two raters and kind, for raters with at least `minimumShared` (default 2) tasks in common. */
export function raterAgreement(ratings: readonly Rating[], minimumShared = 2): RaterAgreement[] {
  const { preferences, scores } = byRater(ratings);
  const rows: RaterAgreement[] = [];
  const raters = [...new Set(ratings.map((r) => r.rater))].sort();
  for (let i = 0; i < raters.length; i++)
    for (let j = i + 1; j < raters.length; j++) {
      const [raterA, raterB] = [raters[i]!, raters[j]!];
      const [pa, pb] = shared(preferences.get(raterA) ?? new Map(), preferences.get(raterB) ?? new Map());
      if (pa.length >= minimumShared)
        rows.push({ raterA, raterB, kind: "preference", n: pa.length, kappa: cohenKappa(pa, pb) });
      for (const [criterion, first] of scores.get(raterA) ?? []) {
        const [sa, sb] = shared(first, scores.get(raterB)?.get(criterion) ?? new Map<string, number>());
        if (sa.length >= minimumShared)
          rows.push({
            raterA,
            raterB,
            kind: "score",
            criterion,
            n: sa.length,
            kappa: cohenKappa(sa, sb),
            weightedKappa: weightedKappa(sa, sb, { weights: "quadratic", min: 1, max: 5 }),
            spearman: spearman(sa, sb),
          });
      }
    }
  return rows;
}

export interface JudgeVerdicts {
  /** Pairwise judge results (from open/<set>.json `pairwise`), winner in terms of a / b. */
  pairwise?: ReadonlyArray<{ id: string; a: string; b: string; winner: "a" | "b" | "tie" }>;
  /** Judge 1–10 ratings per item and system. */
  ratings?: ReadonlyArray<{ id: string; system: string; rating: number }>;
}

export interface JudgeHumanAgreement {
  /** Judge verdict vs the people's majority preference (a tied majority counts as tie). */
  preference?: { n: number; kappa: number; accuracy: number };
  /** Judge rating vs the people's mean score per answer (over raters and criteria). */
  score?: { n: number; spearman: number };
}

export function judgeHumanAgreement(ratings: readonly Rating[], judge: JudgeVerdicts): JudgeHumanAgreement {
  const result: JudgeHumanAgreement = {};
  const votes = new Map<string, Map<Label, number>>();
  const scoreSums = new Map<string, { sum: number; n: number }>();
  for (const rating of ratings) {
    if (rating.kind === "preference") {
      const [key, label] = normalisedPreference(rating.itemId, rating.systemA, rating.systemB, rating.preference);
      const tally = votes.get(key) ?? new Map<Label, number>();
      tally.set(label, (tally.get(label) ?? 0) + 1);
      votes.set(key, tally);
    } else {
      const key = `${rating.itemId}\u0000${rating.system}`;
      const entry = scoreSums.get(key) ?? { sum: 0, n: 0 };
      scoreSums.set(key, { sum: entry.sum + rating.score, n: entry.n + 1 });
    }
  }
  if (judge.pairwise) {
    const judgeLabels: Label[] = [];
    const humanLabels: Label[] = [];
    for (const verdict of judge.pairwise) {
      const [key, label] = normalisedPreference(
        verdict.id,
        verdict.a,
        verdict.b,
        verdict.winner === "a" ? "A" : verdict.winner === "b" ? "B" : "tie",
      );
      const tally = votes.get(key);
      if (!tally) continue;
      const top = Math.max(...tally.values());
      const leaders = [...tally.entries()].filter(([, count]) => count === top).map(([l]) => l);
      judgeLabels.push(label);
      humanLabels.push(leaders.length === 1 ? leaders[0]! : "tie");
    }
    if (judgeLabels.length > 0)
      result.preference = {
        n: judgeLabels.length,
        kappa: cohenKappa(judgeLabels, humanLabels),
        accuracy: judgeLabels.filter((l, i) => l === humanLabels[i]).length / judgeLabels.length,
      };
  }
  if (judge.ratings) {
    const judged: number[] = [];
    const people: number[] = [];
    for (const { id, system, rating } of judge.ratings) {
      const entry = scoreSums.get(`${id}\u0000${system}`);
      if (!entry) continue;
      judged.push(rating);
      people.push(entry.sum / entry.n);
    }
    if (judged.length >= 2) result.score = { n: judged.length, spearman: spearman(judged, people) };
  }
  return result;
}
