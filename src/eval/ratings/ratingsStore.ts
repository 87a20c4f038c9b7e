/**
 * Human ratings in one SQLite file (better-sqlite3, embedded, synchronous). People rate blind:
 * either which of two systems' answers to an item is better (preference A / B / tie), or one
 * answer on a 1–5 scale — a rubric (correctness, completeness, fluency, written in one
 * transaction so a kill never leaves two of three) or one overall score; both with an optional
 * comment. One rating per rater, task and criterion — rating again replaces the earlier one
 * (updated_at changes, created_at stays).
 *
 * Tables: raters, items, answers (item x system), pairs (item x system_a x system_b),
 * preferences (rater x pair), scores (rater x answer x criterion). Timestamps are ISO-8601 UTC.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { DisposedError, InputError } from "../../shared/errors.js";
import type { PairwiseOutcome } from "../stats/pairwise.js";
import { cellError, parseCsv, requiredCell, toCsv } from "./csv.js";

export type Preference = "A" | "B" | "tie";

/** What a rubric task scores, each 1–5. */
export const rubricCriteria = ["correctness", "completeness", "fluency"] as const;
export type RubricCriterion = (typeof rubricCriteria)[number];
/** "overall" is a single score not broken down by criterion. */
export type ScoreCriterion = RubricCriterion | "overall";
const scoreCriteria: readonly ScoreCriterion[] = ["overall", ...rubricCriteria];

export interface ItemInput {
  id: string;
  question: string;
  reference?: string;
  subject?: string;
  set?: string;
  /** system name -> answer text */
  answers?: Record<string, string>;
}

export interface PreferenceRating {
  kind: "preference";
  rater: string;
  itemId: string;
  systemA: string;
  systemB: string;
  /** "A" means systemA's answer is better. */
  preference: Preference;
  comment?: string;
  createdAt: string;
  updatedAt: string;
}

export interface ScoreRating {
  kind: "score";
  rater: string;
  itemId: string;
  system: string;
  criterion: ScoreCriterion;
  score: number;
  comment?: string;
  createdAt: string;
  updatedAt: string;
}

export type Rating = PreferenceRating | ScoreRating;

export interface PairTask {
  kind: "preference";
  pairId: number;
  itemId: string;
  question: string;
  reference?: string;
  subject?: string;
  systemA: string;
  systemB: string;
  answerA: string;
  answerB: string;
}

export interface ScoreTask {
  kind: "score";
  answerId: number;
  itemId: string;
  question: string;
  reference?: string;
  subject?: string;
  system: string;
  answer: string;
}

function scoresTable(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  id INTEGER PRIMARY KEY, rater_id INTEGER NOT NULL REFERENCES raters(id), answer_id INTEGER NOT NULL REFERENCES answers(id),
  criterion TEXT NOT NULL DEFAULT 'overall' CHECK (criterion IN (${scoreCriteria.map((c) => `'${c}'`).join(", ")})),
  score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5), comment TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (rater_id, answer_id, criterion));`;
}

/**
 * Files written before rubric criteria existed have scores without a criterion column and a
 * uniqueness over (rater, answer): rebuilt in one transaction, every old score becoming "overall".
 */
function addScoreCriterion(database: Database.Database): void {
  const columns = database.prepare(`PRAGMA table_info(scores)`).all() as Array<{ name: string }>;
  if (columns.length === 0 || columns.some((column) => column.name === "criterion")) return;
  database.transaction(() => {
    database.exec(scoresTable("scores_with_criterion"));
    database.exec(
      `INSERT INTO scores_with_criterion (id, rater_id, answer_id, criterion, score, comment, created_at, updated_at)
       SELECT id, rater_id, answer_id, 'overall', score, comment, created_at, updated_at FROM scores;
       DROP TABLE scores; ALTER TABLE scores_with_criterion RENAME TO scores;`,
    );
  })();
}

const schema = `
CREATE TABLE IF NOT EXISTS raters (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id TEXT PRIMARY KEY, set_name TEXT, question TEXT NOT NULL, reference TEXT, subject TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
  id INTEGER PRIMARY KEY, item_id TEXT NOT NULL REFERENCES items(id), system TEXT NOT NULL, text TEXT NOT NULL,
  UNIQUE (item_id, system));
CREATE TABLE IF NOT EXISTS pairs (
  id INTEGER PRIMARY KEY, item_id TEXT NOT NULL REFERENCES items(id), system_a TEXT NOT NULL, system_b TEXT NOT NULL,
  UNIQUE (item_id, system_a, system_b), CHECK (system_a <> system_b));
CREATE TABLE IF NOT EXISTS preferences (
  id INTEGER PRIMARY KEY, rater_id INTEGER NOT NULL REFERENCES raters(id), pair_id INTEGER NOT NULL REFERENCES pairs(id),
  preference TEXT NOT NULL CHECK (preference IN ('A', 'B', 'tie')), comment TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (rater_id, pair_id));
${scoresTable("scores")}
`;

export const ratingsCsvHeader = [
  "kind",
  "rater",
  "item_id",
  "system_a",
  "system_b",
  "preference",
  "system",
  "criterion",
  "score",
  "comment",
  "created_at",
  "updated_at",
] as const;
export const itemsCsvColumns = {
  required: ["item_id", "question"],
  optional: ["reference", "subject", "set", "answer:<system> (one column per system)"],
};

export interface RatingsStoreOptions {
  /** Injectable clock for repeatable timestamps in tests. Defaults to the system clock. */
  now?: () => Date;
}

export class RatingsStore {
  private database: Database.Database | undefined;
  private readonly now: () => Date;

  private constructor(database: Database.Database, options: RatingsStoreOptions) {
    this.database = database;
    this.now = options.now ?? (() => new Date());
  }

  /** Opens (creating if needed) the ratings database at `file`; ":memory:" for a throwaway one. */
  static open(file: string, options: RatingsStoreOptions = {}): RatingsStore {
    if (file !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const database = new Database(file);
    database.pragma("journal_mode = WAL");
    database.pragma("foreign_keys = ON");
    addScoreCriterion(database);
    database.exec(schema);
    return new RatingsStore(database, options);
  }

  private get db(): Database.Database {
    if (!this.database) throw new DisposedError("The ratings store was used after dispose().");
    return this.database;
  }

  private timestamp(): string {
    return this.now().toISOString();
  }

  dispose(): void {
    this.database?.close();
    this.database = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Adds or updates items and their answers. */
  addItems(items: readonly ItemInput[]): void {
    const insertItem = this.db.prepare(
      `INSERT INTO items (id, set_name, question, reference, subject, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET set_name = excluded.set_name, question = excluded.question,
         reference = excluded.reference, subject = excluded.subject`,
    );
    const insertAnswer = this.db.prepare(
      `INSERT INTO answers (item_id, system, text) VALUES (?, ?, ?) ON CONFLICT (item_id, system) DO UPDATE SET text = excluded.text`,
    );
    const at = this.timestamp();
    this.db.transaction(() => {
      for (const item of items) {
        insertItem.run(item.id, item.set ?? null, item.question, item.reference ?? null, item.subject ?? null, at);
        for (const [system, text] of Object.entries(item.answers ?? {})) insertAnswer.run(item.id, system, text);
      }
    })();
  }

  /**
   * Creates the pairs people will compare: for every item, `base` against each other system that
   * answered it, or every pair of systems when no base is given. Returns how many pairs are new.
   */
  createPairs(options: { base?: string } = {}): number {
    const answers = this.db
      .prepare(`SELECT item_id AS itemId, system FROM answers ORDER BY item_id, system`)
      .all() as Array<{ itemId: string; system: string }>;
    const bySystem = new Map<string, string[]>();
    for (const { itemId, system } of answers) bySystem.set(itemId, [...(bySystem.get(itemId) ?? []), system]);
    const insert = this.db.prepare(`INSERT OR IGNORE INTO pairs (item_id, system_a, system_b) VALUES (?, ?, ?)`);
    let created = 0;
    this.db.transaction(() => {
      for (const [itemId, systems] of bySystem) {
        const pairs: Array<[string, string]> = [];
        if (options.base !== undefined) {
          if (!systems.includes(options.base)) continue;
          for (const other of systems) if (other !== options.base) pairs.push([options.base, other]);
        } else
          for (let i = 0; i < systems.length; i++)
            for (let j = i + 1; j < systems.length; j++) pairs.push([systems[i]!, systems[j]!]);
        for (const [a, b] of pairs) created += insert.run(itemId, a, b).changes;
      }
    })();
    return created;
  }

  /**
   * Imports items from CSV: columns item_id, question; optional reference, subject, set; and one
   * `answer:<system>` column per system. Returns the number of items.
   */
  importItemsCsv(text: string, file: string): number {
    const rows = parseCsv(text, file, itemsCsvColumns);
    const answerColumns = rows.length > 0 ? Object.keys(rows[0]!.values).filter((c) => c.startsWith("answer:")) : [];
    for (const column of answerColumns)
      if (column.slice("answer:".length).trim() === "")
        throw new InputError(`column "${column}" names no system.`, {
          where: `${file}:1`,
          hint: 'Name answer columns "answer:<system>".',
        });
    const items = rows.map((row): ItemInput => {
      const answers: Record<string, string> = {};
      for (const column of answerColumns)
        if ((row.values[column] ?? "") !== "") answers[column.slice("answer:".length).trim()] = row.values[column]!;
      const optional = (column: string) =>
        row.values[column]?.trim() ? { [column === "set" ? "set" : column]: row.values[column]! } : {};
      return {
        id: requiredCell(row, "item_id"),
        question: requiredCell(row, "question"),
        ...optional("reference"),
        ...optional("subject"),
        ...optional("set"),
        answers,
      };
    });
    this.addItems(items);
    return items.length;
  }

  private raterId(name: string): number {
    const trimmed = name.trim();
    if (trimmed === "") throw new InputError("A rating needs a rater name.");
    this.db.prepare(`INSERT OR IGNORE INTO raters (name, created_at) VALUES (?, ?)`).run(trimmed, this.timestamp());
    return (this.db.prepare(`SELECT id FROM raters WHERE name = ?`).get(trimmed) as { id: number }).id;
  }

  listRaters(): string[] {
    return (this.db.prepare(`SELECT name FROM raters ORDER BY name`).all() as Array<{ name: string }>).map(
      (r) => r.name,
    );
  }

  /** Preference by pair id (what the HTTP API uses). */
  ratePair(input: {
    rater: string;
    pairId: number;
    preference: Preference;
    comment?: string;
    createdAt?: string;
    updatedAt?: string;
  }): PreferenceRating {
    if (!["A", "B", "tie"].includes(input.preference))
      throw new InputError(`preference must be "A", "B" or "tie", got "${input.preference}".`);
    const pair = this.db.prepare(`SELECT id FROM pairs WHERE id = ?`).get(input.pairId);
    if (!pair)
      throw new InputError(`no pair with id ${input.pairId}.`, { hint: "List tasks first; pair ids come from there." });
    const raterId = this.raterId(input.rater);
    const at = input.updatedAt ?? this.timestamp();
    this.db
      .prepare(
        `INSERT INTO preferences (rater_id, pair_id, preference, comment, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (rater_id, pair_id) DO UPDATE SET preference = excluded.preference, comment = excluded.comment, updated_at = ?`,
      )
      .run(raterId, input.pairId, input.preference, input.comment ?? null, input.createdAt ?? at, at, at);
    return this.ratings({ rater: input.rater.trim(), pairId: input.pairId })[0] as PreferenceRating;
  }

  /** Preference by item and systems; the pair is created if needed. Order matters: "A" means systemA. */
  ratePreference(input: {
    rater: string;
    itemId: string;
    systemA: string;
    systemB: string;
    preference: Preference;
    comment?: string;
    createdAt?: string;
    updatedAt?: string;
  }): PreferenceRating {
    this.requireAnswer(input.itemId, input.systemA);
    this.requireAnswer(input.itemId, input.systemB);
    if (input.systemA === input.systemB)
      throw new InputError(`a pair needs two different systems, got "${input.systemA}" twice.`);
    this.db
      .prepare(`INSERT OR IGNORE INTO pairs (item_id, system_a, system_b) VALUES (?, ?, ?)`)
      .run(input.itemId, input.systemA, input.systemB);
    const { id } = this.db
      .prepare(`SELECT id FROM pairs WHERE item_id = ? AND system_a = ? AND system_b = ?`)
      .get(input.itemId, input.systemA, input.systemB) as { id: number };
    return this.ratePair({ ...input, pairId: id });
  }

  private requireAnswer(itemId: string, system: string): number {
    const row = this.db.prepare(`SELECT id FROM answers WHERE item_id = ? AND system = ?`).get(itemId, system) as
      { id: number } | undefined;
    if (!row)
      throw new InputError(`item "${itemId}" has no answer from system "${system}".`, {
        hint: "Import the items and answers before their ratings.",
      });
    return row.id;
  }

  /**
   * A 1–5 score for one answer, by answer id (HTTP API) or by item and system; `criterion`
   * defaults to "overall".
   */
  rateScore(
    input: {
      rater: string;
      score: number;
      criterion?: ScoreCriterion;
      comment?: string;
      createdAt?: string;
      updatedAt?: string;
    } & ({ answerId: number } | { itemId: string; system: string }),
  ): ScoreRating {
    const criterion = input.criterion ?? "overall";
    if (!scoreCriteria.includes(criterion))
      throw new InputError(`criterion must be one of ${scoreCriteria.join(", ")}, got ${JSON.stringify(criterion)}.`);
    checkScore(input.score, criterion);
    const answerId = this.answerIdOf(input);
    const raterId = this.raterId(input.rater);
    const at = input.updatedAt ?? this.timestamp();
    this.db
      .prepare(
        `INSERT INTO scores (rater_id, answer_id, criterion, score, comment, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (rater_id, answer_id, criterion) DO UPDATE SET score = excluded.score, comment = excluded.comment, updated_at = ?`,
      )
      .run(raterId, answerId, criterion, input.score, input.comment ?? null, input.createdAt ?? at, at, at);
    return this.ratings({ rater: input.rater.trim(), answerId }).find(
      (rating) => rating.kind === "score" && rating.criterion === criterion,
    ) as ScoreRating;
  }

  /**
   * A rubric rating: one 1–5 score per criterion, all checked before any is written and written in
   * one transaction, so the store never holds part of a rubric.
   */
  rateRubric(
    input: { rater: string; scores: Record<RubricCriterion, number>; comment?: string } & (
      { answerId: number } | { itemId: string; system: string }
    ),
  ): ScoreRating[] {
    for (const criterion of rubricCriteria) checkScore(input.scores[criterion], criterion);
    const target = "answerId" in input ? { answerId: input.answerId } : { itemId: input.itemId, system: input.system };
    const comment = input.comment ? { comment: input.comment } : {};
    return this.db.transaction(() =>
      rubricCriteria.map((criterion) =>
        this.rateScore({ rater: input.rater, ...target, criterion, score: input.scores[criterion], ...comment }),
      ),
    )();
  }

  private answerIdOf(target: { answerId: number } | { itemId: string; system: string }): number {
    if (!("answerId" in target)) return this.requireAnswer(target.itemId, target.system);
    if (!this.db.prepare(`SELECT id FROM answers WHERE id = ?`).get(target.answerId))
      throw new InputError(`no answer with id ${target.answerId}.`, {
        hint: "List tasks first; answer ids come from there.",
      });
    return target.answerId;
  }

  /** Pairs (or answers, for scores) this rater has not rated yet, in a stable order. */
  pendingTasks(rater: string, kind: "preference" | "score", limit = 20): Array<PairTask | ScoreTask> {
    if (kind === "preference") {
      const rows = this.db
        .prepare(
          `SELECT p.id AS pairId, p.item_id AS itemId, i.question, i.reference, i.subject, p.system_a AS systemA, p.system_b AS systemB,
                  aa.text AS answerA, ab.text AS answerB
           FROM pairs p JOIN items i ON i.id = p.item_id
             JOIN answers aa ON aa.item_id = p.item_id AND aa.system = p.system_a
             JOIN answers ab ON ab.item_id = p.item_id AND ab.system = p.system_b
           WHERE p.id NOT IN (SELECT pr.pair_id FROM preferences pr JOIN raters r ON r.id = pr.rater_id WHERE r.name = ?)
           ORDER BY p.id LIMIT ?`,
        )
        .all(rater.trim(), limit) as Array<Record<string, unknown>>;
      return rows.map((row) => ({ kind: "preference", ...withoutNulls(row) }) as PairTask);
    }
    const rows = this.db
      .prepare(
        `SELECT a.id AS answerId, a.item_id AS itemId, i.question, i.reference, i.subject, a.system, a.text AS answer
         FROM answers a JOIN items i ON i.id = a.item_id
         WHERE a.id NOT IN (SELECT s.answer_id FROM scores s JOIN raters r ON r.id = s.rater_id WHERE r.name = ?)
         ORDER BY a.id LIMIT ?`,
      )
      .all(rater.trim(), limit) as Array<Record<string, unknown>>;
    return rows.map((row) => ({ kind: "score", ...withoutNulls(row) }) as ScoreTask);
  }

  /** Every rating, preferences first, in insertion order; optionally filtered. */
  ratings(
    filter: { rater?: string; pairId?: number; answerId?: number; kind?: "preference" | "score" } = {},
  ): Rating[] {
    const results: Rating[] = [];
    if (filter.kind !== "score" && filter.answerId === undefined) {
      const rows = this.db
        .prepare(
          `SELECT r.name AS rater, p.item_id AS itemId, p.system_a AS systemA, p.system_b AS systemB, pr.preference, pr.comment,
                  pr.created_at AS createdAt, pr.updated_at AS updatedAt
           FROM preferences pr JOIN raters r ON r.id = pr.rater_id JOIN pairs p ON p.id = pr.pair_id
           WHERE (? IS NULL OR r.name = ?) AND (? IS NULL OR p.id = ?) ORDER BY pr.id`,
        )
        .all(filter.rater ?? null, filter.rater ?? null, filter.pairId ?? null, filter.pairId ?? null) as Array<
        Record<string, unknown>
      >;
      for (const row of rows) results.push({ kind: "preference", ...withoutNulls(row) } as PreferenceRating);
    }
    if (filter.kind !== "preference" && filter.pairId === undefined) {
      const rows = this.db
        .prepare(
          `SELECT r.name AS rater, a.item_id AS itemId, a.system, s.criterion, s.score, s.comment, s.created_at AS createdAt,
                  s.updated_at AS updatedAt
           FROM scores s JOIN raters r ON r.id = s.rater_id JOIN answers a ON a.id = s.answer_id
           WHERE (? IS NULL OR r.name = ?) AND (? IS NULL OR a.id = ?) ORDER BY s.id`,
        )
        .all(filter.rater ?? null, filter.rater ?? null, filter.answerId ?? null, filter.answerId ?? null) as Array<
        Record<string, unknown>
      >;
      for (const row of rows) results.push({ kind: "score", ...withoutNulls(row) } as ScoreRating);
    }
    return results;
  }

  /** Ratings as CSV (header `ratingsCsvHeader`), the same format importRatingsCsv reads. */
  exportRatingsCsv(): string {
    return toCsv(
      ratingsCsvHeader,
      this.ratings().map((r) =>
        r.kind === "preference"
          ? [
              "preference",
              r.rater,
              r.itemId,
              r.systemA,
              r.systemB,
              r.preference,
              "",
              "",
              "",
              r.comment,
              r.createdAt,
              r.updatedAt,
            ]
          : ["score", r.rater, r.itemId, "", "", "", r.system, r.criterion, r.score, r.comment, r.createdAt, r.updatedAt],
      ),
    );
  }

  /** Ratings as JSON Lines, one `Rating` object per line (what ratings() returns). */
  exportRatingsJsonl(): string {
    return this.ratings()
      .map((rating) => JSON.stringify(rating) + "\n")
      .join("");
  }

  /**
   * Imports ratings from CSV (the export format). All rows are checked before any is written, so a
   * bad file changes nothing; errors name file, line, row and column.
   */
  importRatingsCsv(text: string, file: string): number {
    const rows = parseCsv(text, file, { required: ["kind", "rater", "item_id"], optional: ratingsCsvHeader.slice(3) });
    const actions: Array<() => void> = [];
    for (const row of rows) {
      const kind = requiredCell(row, "kind");
      const rater = requiredCell(row, "rater");
      const itemId = requiredCell(row, "item_id");
      const comment = row.values.comment?.trim() ? row.values.comment : undefined;
      const time = (column: "created_at" | "updated_at") => {
        const value = row.values[column]?.trim() || undefined;
        if (value !== undefined && Number.isNaN(Date.parse(value)))
          throw cellError(row, column, `"${value}" is not an ISO-8601 time.`);
        return value === undefined ? {} : { [column === "created_at" ? "createdAt" : "updatedAt"]: value };
      };
      const times = { ...time("created_at"), ...time("updated_at") };
      const checkAnswer = (column: string, system: string) => {
        if (!this.db.prepare(`SELECT 1 FROM answers WHERE item_id = ? AND system = ?`).get(itemId, system))
          throw cellError(
            row,
            column,
            `item "${itemId}" has no answer from system "${system}".`,
            "Import the items and answers before their ratings.",
          );
      };
      if (kind === "preference") {
        const systemA = requiredCell(row, "system_a");
        const systemB = requiredCell(row, "system_b");
        checkAnswer("system_a", systemA);
        checkAnswer("system_b", systemB);
        if (systemA === systemB) throw cellError(row, "system_b", `is the same system as system_a ("${systemA}").`);
        const raw = requiredCell(row, "preference");
        const preference = ({ a: "A", b: "B", tie: "tie" } as const)[raw.toLowerCase() as "a" | "b" | "tie"];
        if (!preference) throw cellError(row, "preference", `must be A, B or tie, got "${raw}".`);
        actions.push(() =>
          this.ratePreference({
            rater,
            itemId,
            systemA,
            systemB,
            preference,
            ...(comment ? { comment } : {}),
            ...times,
          }),
        );
      } else if (kind === "score") {
        const system = requiredCell(row, "system");
        checkAnswer("system", system);
        const raw = requiredCell(row, "score");
        const score = Number(raw);
        if (!Number.isInteger(score) || score < 1 || score > 5)
          throw cellError(row, "score", `must be an integer from 1 to 5, got "${raw}".`);
        const criterion = (row.values.criterion?.trim() || "overall") as ScoreCriterion;
        if (!scoreCriteria.includes(criterion))
          throw cellError(row, "criterion", `must be one of ${scoreCriteria.join(", ")}, got "${criterion}".`);
        actions.push(() =>
          this.rateScore({ rater, itemId, system, criterion, score, ...(comment ? { comment } : {}), ...times }),
        );
      } else throw cellError(row, "kind", `must be "preference" or "score", got "${kind}".`);
    }
    this.db.transaction(() => actions.forEach((act) => act()))();
    return actions.length;
  }

  /**
   * People's preferences as pairwise outcomes for Bradley–Terry / Elo. With several raters on one
   * pair, each rating is one outcome (so disagreement shows up as uncertainty, not as a majority).
   */
  pairwiseOutcomes(): PairwiseOutcome[] {
    return this.ratings({ kind: "preference" }).map((r) => {
      const p = r as PreferenceRating;
      return { a: p.systemA, b: p.systemB, winner: p.preference === "A" ? "a" : p.preference === "B" ? "b" : "tie" };
    });
  }
}

function checkScore(score: unknown, criterion: ScoreCriterion): void {
  if (!Number.isInteger(score) || (score as number) < 1 || (score as number) > 5)
    throw new InputError(
      `${criterion === "overall" ? "score" : `${criterion} score`} must be an integer from 1 to 5, got ${JSON.stringify(score)}.`,
    );
}

function withoutNulls(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null));
}
