import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startFakeOpenAIServer } from "../../llm/testing/fakeOpenAIServer.js";
import { runCli } from "../testing/runCli.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-cli-eval-run-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("vertical eval run", () => {
  it("writes a results folder, prints the table, and reports a failed system with exit code 1", async () => {
    const server = await startFakeOpenAIServer({ tokenLogprob: (_prefix, token) => (token === "A" ? -0.2 : -2) });
    const gone = await startFakeOpenAIServer();
    const goneUrl = gone.baseUrl;
    await gone.close();
    try {
      fs.writeFileSync(path.join(dir, "set.csv"), "q1,a,b,c,d,A\nq2,a,b,c,d,B\n");
      const spec = path.join(dir, "eval.yaml");
      fs.writeFileSync(
        spec,
        `name: cli
systems:
  - { name: base, backend: openai, model: m, baseUrl: "${server.baseUrl}" }
sets:
  - { name: tiny, path: set.csv }
`,
      );
      const outDir = path.join(dir, "out");
      const ok = await runCli("eval", "run", spec, "--out", outDir);
      expect(ok.code).toBe(0);
      expect(ok.out).toMatch(/base\s*│\s*tiny\s*│\s*letter\s*│\s*no\s*│\s*2\/2\s*│\s*50\.0%/);
      expect(ok.err).toContain("base × tiny: 2/2 scored, accuracy 50.0%");
      expect(fs.existsSync(path.join(outDir, "summary.json"))).toBe(true);

      fs.appendFileSync(spec, `  - { name: other, path: set.csv }\n`);
      fs.writeFileSync(
        spec,
        fs
          .readFileSync(spec, "utf8")
          .replace(
            `baseUrl: "${server.baseUrl}" }`,
            `baseUrl: "${server.baseUrl}" }\n  - { name: down, backend: openai, model: m, baseUrl: "${goneUrl}", maxRetries: 0 }`,
          ),
      );
      const failed = await runCli("eval", "run", spec, "--out", outDir);
      expect(failed.code).toBe(1);
      expect(failed.err).toContain("2 system × set result(s) did not finish");
      expect(failed.err).toContain(
        `down × tiny: ${path.join(dir, "set.csv")}:1 (item set/1): ${goneUrl}/completions: cannot connect`,
      );
    } finally {
      await server.close();
    }
  });

  it("names the field of a bad spec", async () => {
    const spec = path.join(dir, "bad.yaml");
    fs.writeFileSync(spec, "name: bad\nsystems:\n  - { name: x, backend: openai }\nsets: []\n");
    const result = await runCli("eval", "run", spec);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`${spec}: invalid fields:`);
    expect(result.err).toMatch(/sets: /);
  });
});
