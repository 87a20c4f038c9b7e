/**
 * HTML's structure, written the Markdown way inside the page before the data pipeline flattens it to
 * text: `<h2>Fees</h2>` becomes "## Fees" and `<li>` gains "- ", so the chunker finds sections and list
 * items in HTML as it does in Markdown. Table rows become "| a | b |" lines for the same reason.
 */
import { parse } from "node-html-parser";

export function markHtmlStructure(html: string): string {
  const root = parse(html, { comment: false, blockTextElements: { pre: true } });
  for (const heading of root.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const level = Number(heading.tagName.slice(1));
    heading.set_content(`${"#".repeat(level)} ${heading.text.trim()}`);
  }
  for (const item of root.querySelectorAll("li")) item.set_content(`- ${item.text.trim()}`);
  for (const row of root.querySelectorAll("tr")) {
    const cells = row.querySelectorAll("th, td").map((cell) => cell.text.trim());
    row.replaceWith(`<p>| ${cells.join(" | ")} |</p>`);
  }
  return root.toString();
}
