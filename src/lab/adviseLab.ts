/**
 * The report's closing "What this lab says": generated from the measured numbers, never canned. Per
 * route, its domain gain, general change and training cost; then each practical rule of domain
 * adaptation the lab can test, judged by the paired 95% interval of the comparison that tests it:
 *   lower bound > 0 -> "supports", upper bound < 0 -> "contradicts", overlaps 0 -> "not resolved",
 *   a route not run -> "not measured".
 * Every sentence carries the numbers it rests on.
 */
import type { Estimate } from "../eval/stats/bootstrap.js";

export interface RouteMeasure {
  route: string;
  /** Accuracies (for the base's own line). */
  domain: Estimate | null;
  general: Estimate | null;
  /** Paired differences to the base on the same items. */
  domainDelta: Estimate | null;
  generalDelta: Estimate | null;
  trainingTokens: number | null;
  trainingSeconds: number | null;
  /** Stages on the route's path that a time cap stopped early, as "stage reached/planned". */
  cutStages?: string[];
}

export type MeasuredSet = "domain" | "general";

export interface AdvisorInput {
  routes: readonly RouteMeasure[];
  /** Paired difference `first` - `second` on a set, over the items both scored; null when either is missing. */
  paired: (first: string, second: string, set: MeasuredSet) => (Estimate & { n: number }) | null;
  /** Minimum detectable difference of the domain comparison (accuracy units) and the item count it holds for. */
  domainMdd: { value: number; items: number } | null;
}

export type RuleVerdict = "supports" | "contradicts" | "not resolved" | "not measured";

export interface RuleFinding {
  rule: string;
  verdict: RuleVerdict;
  sentence: string;
}

export interface Advice {
  perRoute: string[];
  rules: RuleFinding[];
  closing: string[];
}

/** A rule and the comparison that tests it: the rule predicts `first` scores higher than `second` on `set`. */
interface RuleTest {
  rule: string;
  first: string;
  second: string;
  set: MeasuredSet;
}

export const RULE_TESTS: readonly RuleTest[] = [
  { rule: "mixing general text into CPT protects general ability", first: "cpt-general", second: "cpt", set: "general" },
  { rule: "instruction data mixed into pre-training (MIP) beats CPT then SFT", first: "mip", second: "cpt-sft", set: "domain" },
  { rule: "with few resources (a quarter of the SFT data), SFT a chat model rather than the base", first: "chat-sft-small", second: "sft-small", set: "domain" },
  { rule: "with all the SFT data, start from the base model rather than the chat model", first: "sft", second: "chat-sft", set: "domain" },
  { rule: "retrieval beats training for facts that are in the documents", first: "retrieval", second: "cpt", set: "domain" },
];

const points = (value: number) => {
  const text = Math.abs(value * 100).toFixed(1);
  return `${value > 0 && text !== "0.0" ? "+" : value < 0 && text !== "0.0" ? "−" : "±"}${text} pts`;
};
const interval = (estimate: Estimate) => `[95% CI ${points(estimate.ci95[0])}, ${points(estimate.ci95[1])}]`;
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

/** "supports"-style reading of a paired interval: which side of 0 it lies on, if either. */
export function intervalSide(estimate: Estimate): "above" | "below" | "overlaps" {
  if (estimate.ci95[0] > 0) return "above";
  if (estimate.ci95[1] < 0) return "below";
  return "overlaps";
}

function change(label: string, delta: Estimate | null): string {
  if (!delta) return `${label} not measured`;
  const side = intervalSide(delta);
  const reading = side === "above" ? "a gain" : side === "below" ? "a loss" : "not resolved";
  return `${label} ${points(delta.value)} ${interval(delta)} (${reading})`;
}

function cost(measure: RouteMeasure): string {
  if (measure.trainingTokens === null) return "no training";
  const seconds = measure.trainingSeconds === null ? "" : ` in ${Math.round(measure.trainingSeconds)} s`;
  return `${measure.trainingTokens.toLocaleString("en-US")} training tokens${seconds}`;
}

function routeSentence(measure: RouteMeasure): string {
  if (measure.route === "base")
    return `base (the reference): domain ${measure.domain ? percent(measure.domain.value) : "not measured"}, general ${measure.general ? percent(measure.general.value) : "not measured"}.`;
  const cut = measure.cutStages?.length ? `; training cut by its time cap (${measure.cutStages.join(", ")} steps)` : "";
  return `${measure.route}: ${change("domain", measure.domainDelta)} vs base; ${change("general", measure.generalDelta)}; cost ${cost(measure)}${cut}.`;
}

function judgeRule(test: RuleTest, input: AdvisorInput, present: Set<string>): RuleFinding {
  const missing = [test.first, test.second].filter((route) => !present.has(route));
  const comparison = `${test.first} − ${test.second} on ${test.set} MCQ`;
  if (missing.length > 0)
    return { rule: test.rule, verdict: "not measured", sentence: `“${test.rule}”: not measured — route ${missing.join(" and ")} did not run in this lab.` };
  const delta = input.paired(test.first, test.second, test.set);
  if (!delta) return { rule: test.rule, verdict: "not measured", sentence: `“${test.rule}”: not measured — ${comparison} has no items scored by both.` };
  const measured = `${comparison}: ${points(delta.value)} ${interval(delta)}, ${delta.n} items`;
  const side = intervalSide(delta);
  if (side === "above") return { rule: test.rule, verdict: "supports", sentence: `“${test.rule}”: supported here — ${measured}.` };
  if (side === "below") return { rule: test.rule, verdict: "contradicts", sentence: `“${test.rule}”: contradicted here — ${measured}.` };
  return { rule: test.rule, verdict: "not resolved", sentence: `“${test.rule}”: not resolved — ${measured}; the interval includes 0.` };
}

function closingNotes(input: AdvisorInput): string[] {
  const notes: string[] = [];
  const trained = input.routes.filter((measure) => measure.route !== "base" && measure.domainDelta);
  const worse = trained.filter((measure) => intervalSide(measure.domainDelta!) === "below");
  const unresolved = trained.filter((measure) => intervalSide(measure.domainDelta!) === "overlaps");
  if (worse.length > 0) notes.push(`Worse than the base on the domain set: ${worse.map((measure) => `${measure.route} (${points(measure.domainDelta!.value)})`).join(", ")}.`);
  if (unresolved.length > 0) {
    const mdd = input.domainMdd;
    const below = mdd ? unresolved.filter((measure) => Math.abs(measure.domainDelta!.value) < mdd.value) : [];
    notes.push(
      `Not resolved against the base on the domain set: ${unresolved.map((measure) => `${measure.route} (${points(measure.domainDelta!.value)})`).join(", ")}.` +
        (mdd
          ? ` With ${mdd.items} items the paired test resolves about ${points(mdd.value).replace("+", "")} (alpha 0.05, power 0.8)` +
            (below.length > 0 ? `; the measured changes of ${below.map((measure) => measure.route).join(", ")} are smaller than that, so more items or a larger effect (longer training, a stronger model) are needed to tell.` : ".")
          : ""),
    );
  }
  const cut = input.routes.filter((measure) => measure.cutStages?.length);
  if (cut.length > 0)
    notes.push(
      `Time caps (budgets.*.minutes) cut the training of ${cut.map((measure) => `${measure.route} (${measure.cutStages!.join(", ")} steps)`).join(", ")}: ` +
        "those routes trained less than planned on this machine; raise the caps or budget by steps alone to measure them as planned.",
    );
  const better = trained.filter((measure) => intervalSide(measure.domainDelta!) === "above");
  if (better.length === 0 && trained.length > 0) notes.push("No route beat the base on the domain set in this lab.");
  return notes;
}

export function adviseLab(input: AdvisorInput): Advice {
  const present = new Set(input.routes.map((measure) => measure.route));
  return {
    perRoute: input.routes.map(routeSentence),
    rules: RULE_TESTS.map((test) => judgeRule(test, input, present)),
    closing: closingNotes(input),
  };
}
