import type { Command } from "commander";
import { ConfigError } from "../../shared/errors.js";
import { commandGroup } from "./group.js";

/** `vertical feedback export DB --as eval|sft|preference [--out FILE]`: user feedback as the next eval or training set. */
export function register(program: Command): void {
  commandGroup(program, "feedback", "User feedback collected by `vertical serve`")
    .command("export")
    .description("Turn feedback into an open-ended eval set, SFT conversations or preference pairs (JSONL)")
    .argument("<feedback.db>", "the SQLite file `vertical serve --feedback` wrote")
    .requiredOption("--as <kind>", "eval | sft | preference")
    .option("--out <file>", "write here (atomically) instead of stdout")
    .action(async (file: string, flags: { as: string; out?: string }) => {
      const kinds = ["eval", "sft", "preference"] as const;
      const kind = kinds.find((candidate) => candidate === flags.as);
      if (!kind) throw new ConfigError(`unknown export "${flags.as}"`, { where: "--as", hint: `Use one of ${kinds.join(", ")}.` });
      const fs = await import("node:fs");
      if (!fs.existsSync(file)) throw new ConfigError("no feedback store here", { where: file, hint: "Start `vertical serve --feedback FILE.db` and give feedback first." });
      const { FeedbackStore } = await import("../../eval/feedback/feedbackStore.js");
      const { exportFeedback } = await import("../../eval/feedback/feedbackExport.js");
      const store = FeedbackStore.open(file);
      try {
        const { text, lines } = exportFeedback(store.feedback(), kind);
        if (!flags.out) return void process.stdout.write(text);
        const { writeFileAtomic } = await import("../../shared/atomicWrite.js");
        writeFileAtomic(flags.out, text);
        process.stderr.write(`wrote ${lines} ${kind} line(s) to ${flags.out}\n`);
      } finally {
        store.dispose();
      }
    });
}
