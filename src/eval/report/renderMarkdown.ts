/** The Markdown twin of the HTML report: the same numbers, as tables (for PRs, terminals, wikis). */
import { describeEmptyAnswers } from "../open/runOpenEval.js";
import type { ReportModel, ReportSection } from "./reportModel.js";
import { cellOf } from "./reportModel.js";
import {
  formatCount,
  formatExtra,
  formatInterval,
  formatPercent,
  formatPointInterval,
  formatPoints,
  formatScore,
  formatSeconds,
} from "./format.js";

function cellText(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function table(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (i === 0 ? ":--" : "--:"));
  return [header, align, ...rows].map((row) => `| ${row.map(cellText).join(" | ")} |`).join("\n");
}

export function renderMarkdown(model: ReportModel): string {
  const out: string[] = [
    `# ${model.title}`,
    "",
    `Generated ${model.generatedAt} · base system **${model.base}** · from ${model.sources.map((s) => `\`${s}\``).join(", ")}`,
    "",
  ];
  const name = (system: string) => (system === model.base ? `${system} (base)` : system);
  if (model.incomplete.length)
    out.push(
      `> **Not finished:** ${model.incomplete.map((r) => `${r.system} on ${r.set} (${r.status}${r.error ? `: ${r.error}` : ""})`).join("; ")}.`,
      "",
    );
  if (model.mcqSets.length) {
    out.push(
      "## Multiple-choice accuracy",
      "",
      "Accuracy [95% interval]; Δ = change against the base in percentage points [paired 95% interval].",
      "",
    );
    out.push(
      table(
        ["System", ...model.mcqSets.map((s) => (s.general ? `${s.name} (general)` : s.name))],
        model.systems.map((system) => [
          name(system.name),
          ...model.mcqSets.map((set) => {
            const cell = cellOf(model, system.name, set.name);
            if (!cell?.accuracy) return "–";
            const delta = cell.delta
              ? ` · Δ ${formatPoints(cell.delta.value)}${cell.delta.ci95 ? ` [${formatPointInterval(cell.delta.ci95)}]` : ""}`
              : "";
            const status = cell.status !== "complete" ? ` (${cell.status} ${cell.n}/${cell.total})` : "";
            return `${formatPercent(cell.accuracy.value)} [${formatInterval(cell.accuracy.ci95)}]${delta}${status}`;
          }),
        ]),
      ),
      "",
    );
  }
  if (model.forgetting.length) {
    out.push("## Forgetting (general sets)", "");
    out.push(
      table(
        ["System", "Set", "Base", "System score", "Change", "95% interval", "Items"],
        model.forgetting.map((f) => [
          f.system,
          f.set,
          formatPercent(f.baseScore),
          formatPercent(f.score),
          formatPoints(f.delta),
          f.ci95 ? formatPointInterval(f.ci95) : "–",
          String(f.n),
        ]),
      ),
      "",
    );
  }
  if (model.open.length) {
    out.push("## Open-ended answers", "");
    for (const result of model.open) {
      const win = new Map(result.winRates.map((w) => [w.system, w]));
      const bt = new Map(result.bradleyTerry.map((b) => [b.system, b]));
      out.push(
        `### ${result.set}`,
        "",
        `${result.questions} questions, ${result.withReferences} with references${result.judge ? `; judge \`${result.judge}\`` : ""}${result.judgeConsistency !== undefined ? `; judge consistent across orders in ${formatPercent(result.judgeConsistency)}` : ""}.`,
        "",
        ...(describeEmptyAnswers(result) ? [`**${describeEmptyAnswers(result)}**`, ""] : []),
      );
      out.push(
        table(
          ["System", "ROUGE-L", "Char F1", "Judge 1–10", "Win rate (W/T/L)", "Bradley–Terry [95%]"],
          result.systems.map((s) => {
            const w = win.get(s.system);
            const r = bt.get(s.system);
            return [
              name(s.system),
              formatScore(s.rougeL),
              formatScore(s.charF1),
              s.judgeRating === undefined ? "–" : formatScore(s.judgeRating, 2),
              w ? `${formatPercent(w.winRate)} (${w.wins}/${w.ties}/${w.losses})` : "–",
              r ? `${r.rating.toFixed(0)} [${r.low.toFixed(0)}–${r.high.toFixed(0)}]` : "–",
            ];
          }),
        ),
        "",
      );
    }
  }
  if (model.human) {
    const bt = new Map(model.human.bradleyTerry.map((b) => [b.system, b]));
    out.push("## Human ratings", "", `${model.human.comparisons} blind pairwise judgements by people.`, "");
    out.push(
      table(
        ["System", "Win rate (W/T/L)", "Bradley–Terry [95%]"],
        model.human.winRates.map((w) => {
          const r = bt.get(w.system);
          return [
            name(w.system),
            `${formatPercent(w.winRate)} (${w.wins}/${w.ties}/${w.losses})`,
            r ? `${r.rating.toFixed(0)} [${r.low.toFixed(0)}–${r.high.toFixed(0)}]` : "–",
          ];
        }),
      ),
      "",
    );
    if (model.human.agreement.length)
      out.push(
        table(
          ["Raters", "Kind", "Shared", "Cohen's κ", "Weighted κ", "Spearman"],
          model.human.agreement.map((a) => [
            `${a.raterA} · ${a.raterB}`,
            a.kind,
            String(a.n),
            formatScore(a.kappa, 2),
            formatScore(a.weightedKappa, 2),
            formatScore(a.spearman, 2),
          ]),
        ),
        "",
      );
  }
  out.push("## Cost", "");
  out.push(
    table(
      [
        "System",
        "Eval prompt tokens",
        "Eval completion tokens",
        "Eval wall time",
        "Training tokens",
        "Training time",
        ...model.extraColumns.map((c) => c.header),
      ],
      model.costs.map((c) => [
        name(c.system),
        formatCount(c.promptTokens),
        formatCount(c.completionTokens),
        formatSeconds(c.wallSeconds),
        formatCount(c.trainingTokens),
        formatSeconds(c.trainingSeconds),
        ...c.extra.map((v, i) => formatExtra(v, model.extraColumns[i]!.unit)),
      ]),
    ),
    "",
  );
  out.push("## Systems", "");
  out.push(
    table(
      ["System", "Backend", "Model", "Adapters", "Scoring", "Chat template"],
      model.systems.map((s) => [
        name(s.name),
        s.backend ?? "–",
        s.model ?? "–",
        s.adapters?.map((a) => `${a.path} ×${a.scale}`).join(", ") || "–",
        s.scoring ?? "–",
        s.templateApplied ? "applied" : "none",
      ]),
    ),
    "",
  );
  for (const section of model.sections) out.push(...renderSection(section));
  return out.join("\n");
}

function renderSection(section: ReportSection): string[] {
  const out = [`## ${section.title}`, ""];
  for (const block of section.blocks) {
    if (block.kind === "paragraph") out.push(block.text, "");
    else if (block.kind === "list") out.push(...block.items.map((item) => `- ${item.replace(/\r?\n/g, " ")}`), "");
    else out.push(table(block.header, block.rows), "");
  }
  return out;
}
