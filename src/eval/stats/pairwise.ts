/** One comparison between two systems, from a judge or a person. */
export interface PairwiseOutcome {
  a: string;
  b: string;
  winner: "a" | "b" | "tie";
}

/** Wins, losses and ties of each system over a list of comparisons; win rate counts a tie as half. */
export interface WinRecord {
  system: string;
  wins: number;
  losses: number;
  ties: number;
  /** (wins + ties / 2) / comparisons. */
  winRate: number;
}

export function winRecords(outcomes: readonly PairwiseOutcome[]): WinRecord[] {
  const table = new Map<string, { wins: number; losses: number; ties: number }>();
  const entry = (system: string) => {
    let record = table.get(system);
    if (!record) table.set(system, (record = { wins: 0, losses: 0, ties: 0 }));
    return record;
  };
  for (const outcome of outcomes) {
    const a = entry(outcome.a);
    const b = entry(outcome.b);
    if (outcome.winner === "a") {
      a.wins++;
      b.losses++;
    } else if (outcome.winner === "b") {
      b.wins++;
      a.losses++;
    } else {
      a.ties++;
      b.ties++;
    }
  }
  return [...table.entries()].map(([system, r]) => {
    const total = r.wins + r.losses + r.ties;
    return { system, ...r, winRate: total === 0 ? 0 : (r.wins + r.ties / 2) / total };
  });
}

/** Systems named in the outcomes, in first-seen order. */
export function systemsIn(outcomes: readonly PairwiseOutcome[]): string[] {
  const seen = new Set<string>();
  for (const outcome of outcomes) {
    seen.add(outcome.a);
    seen.add(outcome.b);
  }
  return [...seen];
}
