/**
 * What users say about a running system, in one SQLite file (better-sqlite3, WAL, synchronous=FULL
 * so a committed row survives a kill -9 and a power cut): every answered request (`responses`: system,
 * the conversation, the question, the answer, the retrieved passages) and the feedback people give on
 * it (`feedback`: thumbs up/down, a corrected answer, a comment). Each write is one transaction, so a
 * kill mid-request leaves the row whole or absent, never half-written.
 *
 * The exports turn it into what the rest of Vertical reads as it is (feedbackExport.ts).
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { DisposedError, InputError, NotFoundError } from "../../shared/errors.js";

export interface FeedbackPassage {
  source: string;
  text: string;
  score: number;
}

export interface ResponseRecord {
  id: string;
  system: string;
  /** The conversation as sent (chat), or one user message holding the prompt (completions). */
  messages: { role: string; content: string }[];
  /** The last user message: what was asked. */
  question: string;
  answer: string;
  passages: FeedbackPassage[];
  createdAt: string;
}

export interface FeedbackInput {
  responseId: string;
  /** 1 thumbs up, -1 thumbs down. */
  rating?: 1 | -1;
  correction?: string;
  comment?: string;
  user?: string;
}

export interface FeedbackRecord extends Omit<FeedbackInput, "responseId"> {
  id: number;
  response: ResponseRecord;
  createdAt: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY,
  system TEXT NOT NULL,
  messages TEXT NOT NULL,
  question TEXT NOT NULL,
  answer TEXT NOT NULL,
  passages TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  response_id TEXT NOT NULL REFERENCES responses(id),
  rating INTEGER CHECK (rating IN (-1, 1)),
  correction TEXT,
  comment TEXT,
  user TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_response ON feedback(response_id);
`;

interface ResponseRow {
  id: string;
  system: string;
  messages: string;
  question: string;
  answer: string;
  passages: string;
  created_at: string;
}

interface FeedbackRow extends ResponseRow {
  feedback_id: number;
  rating: 1 | -1 | null;
  correction: string | null;
  comment: string | null;
  user: string | null;
  feedback_created_at: string;
}

function toResponse(row: ResponseRow): ResponseRecord {
  return {
    id: row.id,
    system: row.system,
    messages: JSON.parse(row.messages) as ResponseRecord["messages"],
    question: row.question,
    answer: row.answer,
    passages: JSON.parse(row.passages) as FeedbackPassage[],
    createdAt: row.created_at,
  };
}

export class FeedbackStore {
  private disposed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
  ) {}

  /** Opens (creating if needed) the store at `file`; ":memory:" for tests. */
  static open(file: string, options: { now?: () => Date } = {}): FeedbackStore {
    if (file !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    let database: Database.Database;
    try {
      database = new Database(file);
    } catch (error) {
      throw new InputError(`cannot open the feedback store: ${(error as Error).message}`, { where: file, cause: error });
    }
    database.pragma("journal_mode = WAL");
    database.pragma("synchronous = FULL");
    database.pragma("foreign_keys = ON");
    database.exec(SCHEMA);
    return new FeedbackStore(database, options.now ?? (() => new Date()));
  }

  private get live(): Database.Database {
    if (this.disposed) throw new DisposedError("the feedback store was closed");
    return this.db;
  }

  recordResponse(response: Omit<ResponseRecord, "createdAt">): ResponseRecord {
    const createdAt = this.now().toISOString();
    this.live
      .prepare("INSERT INTO responses (id, system, messages, question, answer, passages, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(response.id, response.system, JSON.stringify(response.messages), response.question, response.answer, JSON.stringify(response.passages), createdAt);
    return { ...response, createdAt };
  }

  response(id: string): ResponseRecord | undefined {
    const row = this.live.prepare("SELECT * FROM responses WHERE id = ?").get(id) as ResponseRow | undefined;
    return row ? toResponse(row) : undefined;
  }

  /** Stores feedback on a served response; NotFoundError names the id when the server never gave it. */
  addFeedback(input: FeedbackInput): FeedbackRecord {
    if (input.rating === undefined && input.correction === undefined && input.comment === undefined)
      throw new InputError("feedback needs a rating, a correction or a comment", { where: "rating" });
    const response = this.response(input.responseId);
    if (!response)
      throw new NotFoundError(`no response with id "${input.responseId}"`, {
        where: "response_id",
        hint: "Send the `id` of a chat or completion answer this server gave.",
      });
    const createdAt = this.now().toISOString();
    const { lastInsertRowid } = this.live
      .prepare("INSERT INTO feedback (response_id, rating, correction, comment, user, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(input.responseId, input.rating ?? null, input.correction ?? null, input.comment ?? null, input.user ?? null, createdAt);
    const { responseId: _, ...rest } = input;
    return { id: Number(lastInsertRowid), response, ...rest, createdAt };
  }

  /** Every feedback row with its response, oldest first. */
  feedback(): FeedbackRecord[] {
    const rows = this.live
      .prepare(
        `SELECT r.*, f.id AS feedback_id, f.rating, f.correction, f.comment, f.user, f.created_at AS feedback_created_at
         FROM feedback f JOIN responses r ON r.id = f.response_id ORDER BY f.id`,
      )
      .all() as FeedbackRow[];
    return rows.map((row) => ({
      id: row.feedback_id,
      response: toResponse(row),
      ...(row.rating !== null ? { rating: row.rating } : {}),
      ...(row.correction !== null ? { correction: row.correction } : {}),
      ...(row.comment !== null ? { comment: row.comment } : {}),
      ...(row.user !== null ? { user: row.user } : {}),
      createdAt: row.feedback_created_at,
    }));
  }

  counts(): { responses: number; feedback: number } {
    const count = (table: string) => (this.live.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { responses: count("responses"), feedback: count("feedback") };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.db.close();
  }
}
