import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../shared/errors.js";
import { loadMcq, subjectFromFileName } from "./loadMcq.js";

const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-mcq-"));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));
function write(name: string, text: string): string {
  const file = path.join(folder, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

describe("loadMcq", () => {
  it("reads C-Eval CSV (id, question, A-D, answer, explanation) with the subject from the file name", () => {
    const file = write(
      "port_law_val.csv",
      'id,question,A,B,C,D,answer,explanation\n0,"港口国监督的依据是？",东京备忘录,"巴黎, 备忘录",海牙规则,汉堡规则,B,解析\n1,船舶吃水指什么？,a,b,c,d,a,\n',
    );
    const items = loadMcq(file);
    expect(subjectFromFileName(file)).toBe("port_law");
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({
      id: "port_law/0",
      subject: "port_law",
      question: "港口国监督的依据是？",
      answer: "B",
      explanation: "解析",
      source: { file, row: 2 },
    });
    expect(items[0]!.options.map((option) => option.text)).toEqual([
      "东京备忘录",
      "巴黎, 备忘录",
      "海牙规则",
      "汉堡规则",
    ]);
    expect(items[1]!.answer).toBe("A"); // lower-case letters are accepted
  });

  it("reads CMMLU CSV (unnamed index column, Question, Answer) and MMLU CSV without a header", () => {
    const cmmlu = loadMcq(write("agronomy.csv", ",Question,A,B,C,D,Answer\n0,What?,w,x,y,z,D\n"));
    expect(cmmlu[0]).toMatchObject({ id: "agronomy/0", answer: "D", subject: "agronomy" });
    const mmlu = loadMcq(
      write("astronomy_test.csv", 'What is a star?,gas,rock,ice,metal,A\n"Quoted, with comma",1,2,3,4,C\n'),
    );
    expect(mmlu.map((item) => [item.id, item.question, item.answer])).toEqual([
      ["astronomy/1", "What is a star?", "A"],
      ["astronomy/2", "Quoted, with comma", "C"],
    ]);
  });

  it("reads JSONL with letter fields, a subject, and more than four options", () => {
    const file = write(
      "set.jsonl",
      '{"question":"q1","A":"a","B":"b","C":"c","D":"d","E":"e","answer":"E","subject":"tides"}\n\n{"id":"x","question":"q2","A":"a","B":"b","answer":"A"}\n',
    );
    const items = loadMcq(file);
    expect(items[0]).toMatchObject({ id: "tides/1", subject: "tides", answer: "E" });
    expect(items[0]!.options).toHaveLength(5);
    expect(items[1]).toMatchObject({ id: "set/x", subject: "set", answer: "A", source: { row: 3 } });
  });

  it("loads every file of a directory, one subject per file", () => {
    write("dir/a_dev.csv", "q,1,2,3,4,A\n");
    write("dir/b_dev.csv", "q,1,2,3,4,B\n");
    expect(loadMcq(path.join(folder, "dir")).map((item) => item.id)).toEqual(["a/1", "b/1"]);
  });

  it("names the file and row of a missing column", () => {
    const noHeaderFile = write("short.csv", "q1,a,b,c,d,A\nq2,a,b,c,B\n");
    expect(() => loadMcq(noHeaderFile)).toThrow(InputError);
    expect(() => loadMcq(noHeaderFile)).toThrow(`${noHeaderFile}:2: row has 5 columns, the first row has 6`);
    const headerFile = write("noanswer.csv", "id,question,A,B,C,D\n0,q,a,b,c,d\n");
    expect(() => loadMcq(headerFile)).toThrow(`${headerFile}:1: header has no "answer" column`);
    const shortRow = write("shortrow.csv", "id,question,A,B,C,D,answer\n0,q,a,b,c,d,A\n1,q,a,b\n");
    expect(() => loadMcq(shortRow)).toThrow(`${shortRow}:3: row has 4 columns, the header has 7`);
    const jsonl = write(
      "missing.jsonl",
      '{"question":"q","A":"a","B":"b","answer":"A"}\n{"question":"q","A":"a","B":"b"}\n',
    );
    expect(() => loadMcq(jsonl)).toThrow(`${jsonl}:2: record has no "answer" field`);
  });

  it("names the file and row of an answer letter that is not among the options", () => {
    const file = write("bad_answer.csv", "id,question,A,B,C,D,answer\n0,q,a,b,c,d,A\n1,q,a,b,c,d,E\n");
    expect(() => loadMcq(file)).toThrow(`${file}:3: answer "E" is not one of the options (A, B, C, D)`);
    const jsonl = write("bad_answer.jsonl", '{"question":"q","A":"a","B":"b","answer":"C"}\n');
    expect(() => loadMcq(jsonl)).toThrow(`${jsonl}:1: answer "C" is not one of the options (A, B)`);
  });

  it("rejects a missing path and duplicate ids", () => {
    expect(() => loadMcq(path.join(folder, "nope.csv"))).toThrow(/multiple-choice set not found/);
    const file = write("dup.csv", "id,question,A,B,answer\n1,q,a,b,A\n1,q,a,b,B\n");
    expect(() => loadMcq(file)).toThrow(`${file}:3: duplicate item id "dup/1"`);
  });
});
