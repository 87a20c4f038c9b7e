import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadPromptTemplate, parsePromptTemplate, renderPrompt, type PromptParts } from "./promptTemplate.js";

const parts: PromptParts = {
  reference: "",
  defaultInstruction: "The following are multiple choice questions (with answers) about port law.",
  subject: "port law",
  shots: ["Q1?\nA. x\nB. y\nAnswer: B"],
  question: "Q2?\nA. x\nB. y\nAnswer:",
};

describe("renderPrompt", () => {
  it("renders an empty template as the benchmark's own prompt, no system turn", () => {
    const rendered = renderPrompt({}, parts);
    expect(rendered.userText).toBe(`${parts.defaultInstruction}\n\nQ1?\nA. x\nB. y\nAnswer: B\n\nQ2?\nA. x\nB. y\nAnswer:`);
    expect(rendered.messages).toEqual([{ role: "user", content: rendered.userText }]);
    expect(rendered.rawText).toBe(rendered.userText);
  });

  it("puts the template's instruction (with {subject}) and system prompt in place of the defaults", () => {
    const rendered = renderPrompt({ systemPrompt: "You are a harbour master.", instruction: "Answer about {subject}." }, parts);
    expect(rendered.userText.startsWith("Answer about port law.\n\nQ1?")).toBe(true);
    expect(rendered.messages[0]).toEqual({ role: "system", content: "You are a harbour master." });
    expect(rendered.rawText).toBe(`You are a harbour master.\n\n${rendered.userText}`);
    expect(renderPrompt({ instruction: "" }, parts).userText.startsWith("Q1?")).toBe(true);
  });
});

describe("loadPromptTemplate", () => {
  it("reads YAML and names the file and field of a bad value", () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "template-"));
    const good = path.join(folder, "good.yaml");
    fs.writeFileSync(good, "instruction: Pick one.\nfewShot: { shots: 2, selection: knn }\n");
    expect(loadPromptTemplate(good)).toEqual({ instruction: "Pick one.", fewShot: { shots: 2, selection: "knn" } });
    const bad = path.join(folder, "bad.yaml");
    fs.writeFileSync(bad, "fewShot: { shots: 2, selection: nearest }\n");
    expect(() => loadPromptTemplate(bad)).toThrow(/bad\.yaml: invalid prompt template:\n {2}fewShot\.selection/);
    expect(() => parsePromptTemplate({ systemPromt: "typo" }, "inline")).toThrow(/inline: .*systemPromt|Unrecognized key/);
  });
});
