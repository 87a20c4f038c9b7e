import { describe, expect, it } from "vitest";
import { adviseLab, RULE_TESTS, type AdvisorInput, type RouteMeasure } from "./adviseLab.js";

const estimate = (value: number, low: number, high: number) => ({ value, ci95: [low, high] as [number, number] });

function measure(route: string, domainDelta: [number, number, number] | null, generalDelta: [number, number, number] | null = null, tokens: number | null = null): RouteMeasure {
  return {
    route,
    domain: route === "base" ? estimate(0.3125, 0.25, 0.38) : null,
    general: route === "base" ? estimate(0.5, 0.43, 0.57) : null,
    domainDelta: domainDelta ? estimate(...domainDelta) : null,
    generalDelta: generalDelta ? estimate(...generalDelta) : null,
    trainingTokens: tokens,
    trainingSeconds: tokens === null ? null : 61.4,
  };
}

/** Fixture: cpt-general protects (supports), MIP loses to CPT-then-SFT (contradicts), chat vs base small is unresolved, chat-sft never ran. */
const pairs: Record<string, [number, number, number]> = {
  "cpt-general|cpt|general": [0.081, 0.03, 0.13],
  "mip|cpt-sft|domain": [-0.094, -0.15, -0.04],
  "chat-sft-small|sft-small|domain": [0.02, -0.04, 0.08],
  "retrieval|cpt|domain": [0.0, -0.05, 0.05],
};
const input: AdvisorInput = {
  routes: [
    measure("base", null),
    measure("retrieval", [0.0375, -0.02, 0.09]),
    measure("cpt", [0.15, 0.08, 0.22], [-0.094, -0.15, -0.04], 122_880),
    measure("cpt-general", [0.12, 0.05, 0.19], [-0.01, -0.05, 0.03], 122_880),
    { ...measure("sft", [-0.08, -0.13, -0.03], null, 40_960), cutStages: ["sft 9/40"] },
    measure("sft-small", [0.01, -0.04, 0.06], null, 10_240),
    measure("mip", [0.05, -0.01, 0.11], null, 122_880),
    measure("cpt-sft", [0.14, 0.07, 0.21], null, 163_840),
    measure("chat-sft-small", [0.03, -0.03, 0.09], null, 10_240),
  ],
  paired: (first, second, set) => {
    const found = pairs[`${first}|${second}|${set}`];
    return found ? { ...estimate(...found), n: 160 } : null;
  },
  domainMdd: { value: 0.0886, items: 160 },
};

describe("adviseLab", () => {
  const advice = adviseLab(input);
  const verdict = (first: string) => advice.rules.find((finding) => finding.rule === RULE_TESTS.find((test) => test.first === first)!.rule)!;

  it("judges each rule by the side of 0 its paired interval lies on, citing the numbers", () => {
    expect(verdict("cpt-general").verdict).toBe("supports");
    expect(verdict("cpt-general").sentence).toContain("cpt-general − cpt on general MCQ: +8.1 pts [95% CI +3.0 pts, +13.0 pts], 160 items");
    expect(verdict("mip").verdict).toBe("contradicts");
    expect(verdict("mip").sentence).toContain("−9.4 pts [95% CI −15.0 pts, −4.0 pts]");
    expect(verdict("chat-sft-small").verdict).toBe("not resolved");
    expect(verdict("chat-sft-small").sentence).toMatch(/not resolved — .*\+2\.0 pts.*the interval includes 0/);
    expect(verdict("retrieval").verdict).toBe("not resolved");
  });

  it("says 'not measured' and names the route when a route of the comparison did not run", () => {
    expect(verdict("sft").verdict).toBe("not measured");
    expect(verdict("sft").sentence).toContain("route chat-sft did not run");
  });

  it("says 'not measured' when both routes ran but share no scored item", () => {
    const without = adviseLab({ ...input, paired: () => null });
    expect(without.rules.every((finding) => finding.verdict === "not measured")).toBe(true);
    expect(without.rules[0]!.sentence).toContain("no items scored by both");
  });

  it("gives every route its domain gain, general change and cost", () => {
    expect(advice.perRoute[0]).toBe("base (the reference): domain 31.3%, general 50.0%.");
    const cpt = advice.perRoute.find((line) => line.startsWith("cpt:"))!;
    expect(cpt).toBe("cpt: domain +15.0 pts [95% CI +8.0 pts, +22.0 pts] (a gain) vs base; general −9.4 pts [95% CI −15.0 pts, −4.0 pts] (a loss); cost 122,880 training tokens in 61 s.");
    expect(advice.perRoute.find((line) => line.startsWith("retrieval:"))).toContain("not resolved) vs base; general not measured; cost no training.");
  });

  it("says where a time cap cut a route's training, in its line and in the closing", () => {
    expect(advice.perRoute.find((line) => line.startsWith("sft:"))).toMatch(/cost 40,960 training tokens in 61 s; training cut by its time cap \(sft 9\/40 steps\)\.$/);
    expect(advice.closing).toContain(
      "Time caps (budgets.*.minutes) cut the training of sft (sft 9/40 steps): those routes trained less than planned on this machine; raise the caps or budget by steps alone to measure them as planned.",
    );
  });

  it("closes with the routes that did not beat the base and why, from the MDD", () => {
    expect(advice.closing[0]).toBe("Worse than the base on the domain set: sft (−8.0 pts).");
    expect(advice.closing[1]).toContain("Not resolved against the base on the domain set: retrieval (+3.8 pts), sft-small (+1.0 pts), mip (+5.0 pts), chat-sft-small (+3.0 pts).");
    expect(advice.closing[1]).toContain("With 160 items the paired test resolves about 8.9 pts (alpha 0.05, power 0.8)");
    expect(advice.closing[1]).toContain("the measured changes of retrieval, sft-small, mip, chat-sft-small are smaller than that");
    const none = adviseLab({ ...input, routes: [measure("base", null), measure("cpt", [0.01, -0.03, 0.05])] });
    expect(none.closing).toContain("No route beat the base on the domain set in this lab.");
  });
});
