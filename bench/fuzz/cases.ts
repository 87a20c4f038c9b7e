/**
 * Fuzz cases and their verdicts. A case is a seed file with 1-3 mutations drawn by fast-check (seeded, so a case
 * index reproduces), plus — for GGUF — the file truncated at every byte. The verdict of one read:
 *  - ok: the reader returned;
 *  - named: a VerticalError whose message or `where` names the file (or its folder, for a folder reader);
 *  - unnamed: anything else — a TypeError, a RangeError, a bare SyntaxError, a VerticalError that does not say which
 *    file: what a user would see as a stack trace or an error they cannot act on.
 * A hang (over the per-case limit) and an abort (the process dies) are judged by the runner around this.
 */
import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { VerticalError } from "../../src/shared/errors.js";
import type { FuzzTarget } from "./targets.js";

type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "set"; edits: { at: number; value: number }[] }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number }
  | { kind: "number"; at: number; value: number; width: 4 | 8 }
  | { kind: "text"; at: number; text: string }
  | { kind: "repeat"; at: number; count: number; times: number };

/** Fragments that break parsers: quoting, nesting, YAML anchors and tags, NUL, huge numbers, invalid UTF-8 nearby. */
const FRAGMENTS = ['"', "{", "}", "[", "]", ",", ":", "\n", "\\", "\u0000", "---\n", "- ", "*a", "&a ", "!!binary ", "\uFFFD", "#", "'", "1e400", "-0", "null", "NaN", "\t", "\r\n", "é", "中", "🦙"];
/** Values that land on length and offset fields: 0, one, signed and unsigned limits, past 2^32 and 2^53. */
const NUMBERS = [0, 1, 0x7f, 0xff, 0xffff, 0x7fffffff, 0xffffffff, 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER];

function mutationOf(length: number): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max: Math.max(0, length - 1) });
  return fc.oneof(
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat({ max: length }) }),
    fc.record({ kind: fc.constant("set" as const), edits: fc.array(fc.record({ at, value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant("insert" as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
    fc.record({ kind: fc.constant("delete" as const), at, count: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant("number" as const), at, value: fc.constantFrom(...NUMBERS), width: fc.constantFrom(4 as const, 8 as const) }),
    fc.record({ kind: fc.constant("text" as const), at, text: fc.constantFrom(...FRAGMENTS) }),
    fc.record({ kind: fc.constant("repeat" as const), at, count: fc.integer({ min: 1, max: 32 }), times: fc.integer({ min: 2, max: 2000 }) }),
  );
}

function apply(bytes: Uint8Array, mutation: Mutation): Uint8Array {
  const at = Math.min(mutation.kind === "set" ? 0 : mutation.at, bytes.length);
  switch (mutation.kind) {
    case "truncate":
      return bytes.slice(0, at);
    case "set": {
      const out = bytes.slice();
      for (const edit of mutation.edits) if (edit.at < out.length) out[edit.at] = edit.value;
      return out;
    }
    case "insert":
      return concat(bytes.slice(0, at), mutation.bytes, bytes.slice(at));
    case "delete":
      return concat(bytes.slice(0, at), bytes.slice(at + mutation.count));
    case "number": {
      const out = bytes.slice();
      const field = new Uint8Array(8);
      new DataView(field.buffer).setBigUint64(0, BigInt(mutation.value), true);
      out.set(field.subarray(0, Math.min(mutation.width, out.length - at)), at);
      return out;
    }
    case "text":
      return concat(bytes.slice(0, at), new TextEncoder().encode(mutation.text), bytes.slice(at));
    case "repeat": {
      const slice = bytes.slice(at, at + mutation.count);
      return concat(bytes.slice(0, at), ...Array.from({ length: mutation.times }, () => slice), bytes.slice(at));
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The cases of a run: `count` mutated files (seeded), then for GGUF every truncation of the seed file. */
export function fuzzInputs(target: FuzzTarget, seedFile: Uint8Array, count: number, seed: number): Uint8Array[] {
  const stacks = fc.sample(fc.array(mutationOf(seedFile.length), { minLength: 1, maxLength: 3 }), { seed, numRuns: count });
  const inputs = stacks.map((stack) => stack.reduce(apply, seedFile));
  if (target.name === "gguf") for (let at = 0; at < seedFile.length; at++) inputs.push(seedFile.slice(0, at));
  return inputs;
}

export type Verdict = { outcome: "ok" | "named" } | { outcome: "unnamed"; detail: string };

/** Writes `input` as the target's file in `folder`, reads it, and judges the result. */
export async function judgeCase(target: FuzzTarget, folder: string, input: Uint8Array): Promise<Verdict> {
  const file = path.join(folder, target.fileName);
  fs.writeFileSync(file, input);
  try {
    await target.read(file);
    return { outcome: "ok" };
  } catch (error) {
    if (VerticalError.isInstance(error) && [error.message, error.where ?? ""].some((text) => text.includes(target.fileName) || text.includes(folder)))
      return { outcome: "named" };
    const shown = error instanceof Error ? `${error.name}: ${error.message.slice(0, 300)}\n${(error.stack ?? "").split("\n").slice(1, 4).join("\n")}` : String(error);
    return { outcome: "unnamed", detail: shown };
  }
}
