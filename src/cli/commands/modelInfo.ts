import type { Command } from "commander";
import { commandGroup } from "./group.js";

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(2)} ${units[unit]}`;
}

function formatCount(count: number): string {
  if (count >= 1e9) return `${(count / 1e9).toFixed(2)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}K`;
  return String(count);
}

export function register(program: Command): void {
  commandGroup(program, "model", "Create, inspect and score GGUF models")
    .command("info")
    .description("Show a GGUF's architecture, parameters, hyper-parameters, tensors, tokenizer and chat template")
    .argument("<file>", "the .gguf file")
    .option("--json", "print the summary as JSON")
    .option("--all-tensors", "list every tensor (default: the first 40)")
    .action(async (file: string, options: { json?: boolean; allTensors?: boolean }) => {
      const { readGguf, describeGguf } = await import("../../engine/gguf/index.js");
      const summary = describeGguf(readGguf(file));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      const { default: Table } = await import("cli-table3");
      const lines: string[] = [];
      lines.push(`file:          ${summary.path} (GGUF v${summary.version}, ${formatBytes(summary.fileBytes)})`);
      lines.push(`architecture:  ${summary.architecture ?? "(none)"}${summary.name ? `  name: ${summary.name}` : ""}`);
      const types = Object.entries(summary.tensorTypes)
        .map(([type, count]) => `${type} x${count}`)
        .join(", ");
      lines.push(`parameters:    ${formatCount(summary.parameters)} (${summary.parameters.toLocaleString("en-US")}), tensor data ${formatBytes(summary.tensorBytes)}${types ? ` [${types}]` : ""}`);
      const hyper = Object.entries(summary.hyperParameters);
      if (hyper.length > 0) {
        lines.push("hyper-parameters:");
        for (const [key, value] of hyper) lines.push(`  ${key} = ${JSON.stringify(value)}`);
      }
      if (summary.tokenizer) {
        const t = summary.tokenizer;
        lines.push(`tokenizer:     ${t.model ?? "?"} (pre: ${t.pre ?? "default"}), ${t.vocabSize.toLocaleString("en-US")} tokens, ${t.mergeCount.toLocaleString("en-US")} merges, add_bos=${String(t.addBos ?? "default")}`);
        const specials = Object.entries(t.specialTokens).map(([label, token]) => `${label}=${token.id} ${JSON.stringify(token.text ?? "?")}`);
        if (specials.length) lines.push(`  special:     ${specials.join(", ")}`);
      } else lines.push("tokenizer:     (none)");
      lines.push(`chat template: ${summary.chatTemplate.present ? `yes (${summary.chatTemplate.characters} characters)` : "no"}`);
      const other = Object.entries(summary.otherMetadata);
      if (other.length > 0) {
        lines.push("other metadata:");
        for (const [key, value] of other) lines.push(`  ${key} = ${JSON.stringify(value)}`);
      }
      if (summary.tensors.length > 0) {
        const table = new Table({
          head: ["tensor", "type", "shape (ne)", "bytes"],
          style: { head: [], border: [] },
          chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
        });
        const shown = options.allTensors ? summary.tensors : summary.tensors.slice(0, 40);
        for (const tensor of shown) table.push([tensor.name, tensor.type, `[${tensor.shape.join(", ")}]`, tensor.bytes.toLocaleString("en-US")]);
        lines.push(table.toString());
        if (shown.length < summary.tensors.length) lines.push(`… ${summary.tensors.length - shown.length} more tensors (--all-tensors lists them)`);
      }
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
