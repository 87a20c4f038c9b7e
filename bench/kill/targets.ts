/**
 * The commands the kill harness interrupts, each with tiny inputs built from the shipped example, the command line
 * that starts or continues it (what a user reruns after a crash), and a digest of its final outputs that must equal
 * an uninterrupted run's. Volatile fields (wall times, timestamps, throughput) are dropped from the digests; weights
 * and optimiser state are compared byte for byte (one thread, so the sums run in one order).
 */
import crypto from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import YAML from "yaml";

export interface KillTarget {
  name: string;
  /** Builds the inputs under `dir`; not interrupted. */
  prepare(dir: string): void;
  /** The `vertical` arguments to run now: a fresh start, or the resume a user would type after a crash. */
  argv(dir: string): string[];
  /** Digest of the final outputs, compared with an uninterrupted run's. */
  digest(dir: string): Record<string, string>;
}

const repository = path.resolve(import.meta.dirname, "../..");
const example = path.join(repository, "examples/harbor");
const baseModel = path.join(example, "models/base.gguf");

const sha256 = (bytes: Uint8Array | string) => crypto.createHash("sha256").update(bytes).digest("hex");
const VOLATILE_KEY = /^(seconds|elapsed|wall|duration)$|(At|Ms|Seconds|PerSecond)$/;

/**
 * JSON with the volatile keys removed and keys sorted, so two runs' records compare as strings (every run happens in
 * the same folder path, bench/kill/runKills.ts, so paths inside them compare equal as they are).
 */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([key]) => !VOLATILE_KEY.test(key));
    return Object.fromEntries(
      entries.sort(([a], [b]) => a.localeCompare(b)).map(([key, inner]) => [key, stable(inner)]),
    );
  }
  return value;
}

function jsonLines(file: string): unknown[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);
}

/**
 * One digest per JSONL file: its records without volatile keys, the last record per (id, system, set) — a resumed run
 * may write an item again — sorted by that key.
 */
function digestItems(file: string): string {
  const byId = new Map<string, string>();
  for (const record of jsonLines(file) as { id?: unknown; system?: unknown; set?: unknown }[])
    byId.set(JSON.stringify([record.id, record.system, record.set]), JSON.stringify(stable(record)));
  return sha256(
    [...byId.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, line]) => line)
      .join("\n"),
  );
}

/** The newest checkpoint of a training run: its trainable tensors (weights + Adam moments) and the loss of every step. */
function digestRun(run: string): Record<string, string> {
  const latest = JSON.parse(fs.readFileSync(path.join(run, "latest.json"), "utf8")) as {
    step: number;
    checkpoint: string;
  };
  const losses = new Map<number, number>();
  for (const event of jsonLines(path.join(run, "metrics.jsonl")) as { type: string; step: number; loss: number }[]) {
    if (event.type === "train") losses.set(event.step, event.loss);
  }
  return {
    step: String(latest.step),
    trainable: sha256(fs.readFileSync(path.join(run, latest.checkpoint, "trainable.safetensors"))),
    losses: sha256(JSON.stringify([...losses.entries()].sort(([a], [b]) => a - b))),
  };
}

/** Runs `vertical ARGS` to completion (for inputs that are not under test). */
export function runVertical(argv: string[]): void {
  execFileSync(process.execPath, [path.join(repository, "bin/vertical.js"), ...argv], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}

function harborText(limitChars: number): string {
  const docs = path.join(example, "docs");
  const text = fs
    .readdirSync(docs)
    .sort()
    .map((name) => fs.readFileSync(path.join(docs, name), "utf8"))
    .join("\n\n");
  return text.slice(0, limitChars);
}

const train: KillTarget = {
  name: "train",
  prepare(dir) {
    fs.writeFileSync(path.join(dir, "domain.txt"), harborText(40_000));
  },
  argv(dir) {
    const run = path.join(dir, "run");
    if (fs.existsSync(path.join(run, "config.json"))) return ["train", "--resume", run];
    return [
      "train",
      "--model",
      baseModel,
      "--data",
      path.join(dir, "domain.txt"),
      "--objective",
      "cpt",
      "--method",
      "lora",
      "--rank",
      "4",
      "--steps",
      "24",
      "--seq-len",
      "64",
      "--batch-size",
      "2",
      "--checkpoint-every",
      "1",
      "--threads",
      "1",
      "--seed",
      "3",
      "--out",
      run,
    ];
  },
  digest: (dir) => digestRun(path.join(dir, "run")),
};

const dataIngest: KillTarget = {
  name: "data ingest",
  prepare() {},
  argv: (dir) => [
    "data",
    "ingest",
    path.join(example, "docs"),
    "--store",
    path.join(dir, "corpus.db"),
    "--source",
    "domain",
  ],
  digest(dir) {
    const database = new Database(path.join(dir, "corpus.db"), { readonly: true });
    try {
      const files = database.prepare("SELECT path, source, sha256, size, documents FROM files ORDER BY path").all();
      const documents = database
        .prepare(
          "SELECT source, path, ordinal, content_hash, language, title, text, metadata, status FROM documents ORDER BY path, ordinal",
        )
        .all();
      return { files: sha256(JSON.stringify(files)), documents: sha256(JSON.stringify(documents)) };
    } finally {
      database.close();
    }
  },
};

const dataBuild: KillTarget = {
  name: "data build",
  prepare(dir) {
    const store = path.join(dir, "corpus.db");
    runVertical(["data", "ingest", path.join(example, "docs"), "--store", store, "--source", "domain"]);
    runVertical(["data", "ingest", path.join(example, "general/text"), "--store", store, "--source", "general"]);
    fs.writeFileSync(
      path.join(dir, "cpt.yaml"),
      YAML.stringify({
        objective: "cpt",
        seq_len: 128,
        seed: 1,
        output: "out/cpt",
        tokenizer: baseModel,
        store: "corpus.db",
        sources: [
          { name: "domain", share: 0.5 },
          { name: "general", share: 0.5 },
        ],
      }),
    );
  },
  argv: (dir) => ["data", "build", path.join(dir, "cpt.yaml")],
  digest(dir) {
    const folder = path.join(dir, "out/cpt");
    const digest: Record<string, string> = {
      manifest: sha256(
        JSON.stringify(stable(JSON.parse(fs.readFileSync(path.join(folder, "manifest.json"), "utf8")))),
      ),
    };
    for (const name of fs
      .readdirSync(folder)
      .filter((file) => file.endsWith(".bin"))
      .sort())
      digest[name] = sha256(fs.readFileSync(path.join(folder, name)));
    return digest;
  },
};

const evalRun: KillTarget = {
  name: "eval run",
  prepare(dir) {
    const items = fs
      .readFileSync(path.join(example, "eval/mcq.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .slice(0, 30);
    fs.writeFileSync(path.join(dir, "set.jsonl"), items.join("\n") + "\n");
    fs.writeFileSync(
      path.join(dir, "eval.yaml"),
      YAML.stringify({
        name: "kill",
        systems: [{ name: "base", backend: "llama-cpp", model: baseModel, threads: 1 }],
        sets: [{ name: "tiny", path: "set.jsonl" }],
      }),
    );
  },
  argv: (dir) => ["eval", "run", path.join(dir, "eval.yaml"), "--out", path.join(dir, "results")],
  digest(dir) {
    const results = path.join(dir, "results");
    const summary = JSON.parse(fs.readFileSync(path.join(results, "summary.json"), "utf8")) as { results: unknown };
    return {
      items: digestItems(path.join(results, "items/base/tiny.jsonl")),
      results: sha256(JSON.stringify(stable(summary.results))),
    };
  },
};

/** The example with four routes, a few steps each and a slice of the evaluation sets. */
function reducedLabYaml(): Record<string, unknown> {
  const config = YAML.parse(fs.readFileSync(path.join(example, "lab.yaml"), "utf8")) as Record<string, unknown>;
  const model = { ...(config.model as Record<string, unknown>) };
  delete model.chat;
  return {
    ...config,
    threads: 1,
    model,
    routes: ["base", "retrieval", "cpt", "sft"],
    training: { ...(config.training as object), sequences: 2, sequenceLength: 128 },
    budgets: { cpt: { steps: 4 }, sft: { steps: 4 }, mip: { steps: 4 } },
    eval: { ...(config.eval as object), threads: 1, limit: 8, openLimit: 2, maxTokens: 4 },
  };
}

const lab: KillTarget = {
  name: "lab",
  prepare(dir) {
    const folder = path.join(dir, "harbor");
    fs.mkdirSync(folder);
    for (const part of ["docs", "eval", "general", "sft", "models"])
      fs.symlinkSync(path.join(example, part), path.join(folder, part));
    fs.writeFileSync(path.join(folder, "lab.yaml"), YAML.stringify(reducedLabYaml()));
  },
  argv: (dir) => ["lab", path.join(dir, "harbor"), "--out", path.join(dir, "out")],
  digest(dir) {
    const out = path.join(dir, "out");
    const digest: Record<string, string> = {};
    const evaluation = path.join(out, "eval");
    for (const file of fs
      .readdirSync(evaluation, { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".jsonl"))
      .sort())
      digest[file] = digestItems(path.join(evaluation, file));
    const models = path.join(out, "models");
    for (const file of fs.existsSync(models) ? fs.readdirSync(models).sort() : [])
      digest[`model ${file}`] = sha256(fs.readFileSync(path.join(models, file)));
    const runs = path.join(out, "runs");
    if (fs.existsSync(runs))
      for (const stage of fs.readdirSync(runs).sort())
        if (fs.existsSync(path.join(runs, stage, "latest.json")))
          digest[`run ${stage}`] = JSON.stringify(digestRun(path.join(runs, stage)));
    return digest;
  },
};

export const KILL_TARGETS: KillTarget[] = [train, dataIngest, dataBuild, evalRun, lab];
