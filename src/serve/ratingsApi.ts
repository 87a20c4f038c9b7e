/**
 * The human-ratings HTTP API (JSON over node:http) the web console uses. Raters never see system
 * names: a preference task shows a "left" and a "right" answer, and which system is on the left is
 * a fixed hash of (rater, pair) — so each rater sees a stable order and, over many pairs, each
 * system sits left about half the time (position bias cancels). The server maps the choice back.
 *
 *   GET  /api/ratings/tasks?rater=NAME&kind=preference|score&limit=N   -> {tasks: [...]}
 *   POST /api/ratings  {rater, taskId, choice: "left"|"right"|"tie"}, or on a rubric task
 *                      {rater, taskId, scores: {correctness, completeness, fluency}} (1..5 each) or
 *                      {rater, taskId, score: 1..5} (overall); + optional comment -> 201 {rating}
 *   GET  /api/ratings/export?format=csv|jsonl                           -> the RatingsStore's export
 *   GET  /api/ratings/summary   -> {raters, ratings, winRates, rubric, agreement, judge}
 * Tasks carry the reference answer only when the server is configured to show it (`reference`).
 * Errors are JSON {error: {message, where?, hint?}}: 400 bad input, 404 unknown route, 405 wrong
 * method, 413 body over 1 MiB. HTTP statuses are decided here only (serve/ maps VerticalErrors).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { InputError, VerticalError } from "../shared/errors.js";
import { judgeHumanAgreement, raterAgreement, type JudgeVerdicts } from "../eval/ratings/agreement.js";
import {
  rubricCriteria,
  type PairTask,
  type Rating,
  type RatingsStore,
  type RubricCriterion,
  type ScoreTask,
} from "../eval/ratings/ratingsStore.js";
import { winRecords } from "../eval/stats/pairwise.js";

/** What the console shows for one preference task; system names stay on the server. */
export interface PreferenceTaskWire {
  taskId: string;
  kind: "preference";
  itemId: string;
  question: string;
  reference?: string;
  left: string;
  right: string;
}

export interface ScoreTaskWire {
  taskId: string;
  kind: "score";
  itemId: string;
  question: string;
  reference?: string;
  answer: string;
  /** What to score, each 1–5. */
  criteria: readonly RubricCriterion[];
}

export interface RatingsApiOptions {
  /** Whether raters see the reference answer. Defaults to "shown". */
  reference?: "shown" | "hidden";
  /** The LLM judge's verdicts on the same items, when a judge was run: the summary compares them with people. */
  judge?: JudgeVerdicts;
}

const maximumBody = 1 << 20;

/** FNV-1a, 32 bit: a stable, cheap hash for the left/right decision. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** True when system B is shown on the left for this rater and pair. */
export function isSwapped(rater: string, pairId: number): boolean {
  return (fnv1a(`${rater.trim()}\u0000${pairId}`) & 1) === 1;
}

function toWire(
  rater: string,
  task: PairTask | ScoreTask,
  options: RatingsApiOptions,
): PreferenceTaskWire | ScoreTaskWire {
  const common = {
    itemId: task.itemId,
    question: task.question,
    ...(task.reference && options.reference !== "hidden" ? { reference: task.reference } : {}),
  };
  if (task.kind === "score")
    return { taskId: `s${task.answerId}`, kind: "score", ...common, answer: task.answer, criteria: rubricCriteria };
  const swapped = isSwapped(rater, task.pairId);
  return {
    taskId: `p${task.pairId}`,
    kind: "preference",
    ...common,
    left: swapped ? task.answerB : task.answerA,
    right: swapped ? task.answerA : task.answerB,
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJsonBody(request: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maximumBody) throw new HttpError(413, `request body over ${maximumBody} bytes.`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new InputError(`request body is not JSON (${(error as Error).message}).`);
  }
}

function send(
  response: http.ServerResponse,
  status: number,
  body: unknown,
  contentType = "application/json; charset=utf-8",
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  response.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  response.end(text);
}

function submit(store: RatingsStore, body: unknown) {
  if (typeof body !== "object" || body === null)
    throw new InputError("body must be a JSON object {rater, taskId, choice | scores | score, comment?}.");
  const { rater, taskId, choice, score, scores, comment } = body as Record<string, unknown>;
  if (typeof rater !== "string" || rater.trim() === "")
    throw new InputError('field "rater": a non-empty string is required.');
  if (typeof taskId !== "string" || !/^[ps]\d+$/.test(taskId))
    throw new InputError(
      `field "taskId": expected an id from /api/ratings/tasks like "p12" or "s3", got ${JSON.stringify(taskId)}.`,
    );
  if (comment !== undefined && typeof comment !== "string") throw new InputError('field "comment": must be a string.');
  const id = Number(taskId.slice(1));
  const extra = comment ? { comment } : {};
  if (taskId.startsWith("p")) {
    if (choice !== "left" && choice !== "right" && choice !== "tie")
      throw new InputError(`field "choice": must be "left", "right" or "tie", got ${JSON.stringify(choice)}.`);
    const swapped = isSwapped(rater, id);
    const preference = choice === "tie" ? "tie" : (choice === "left") !== swapped ? "A" : "B";
    return store.ratePair({ rater, pairId: id, preference, ...extra });
  }
  if (scores !== undefined) return store.rateRubric({ rater, answerId: id, scores: rubricScores(scores), ...extra });
  if (typeof score !== "number")
    throw new InputError(
      `field "scores": a rubric task takes {${rubricCriteria.join(", ")}} (1–5 each) or "score" (1–5), got ${JSON.stringify(score)}.`,
    );
  return store.rateScore({ rater, answerId: id, score, ...extra });
}

function rubricScores(scores: unknown): Record<RubricCriterion, number> {
  if (typeof scores !== "object" || scores === null)
    throw new InputError(`field "scores": must be an object {${rubricCriteria.join(", ")}}.`);
  const record = scores as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !(rubricCriteria as readonly string[]).includes(key));
  if (unknown.length > 0)
    throw new InputError(`field "scores.${unknown[0]}": not a criterion; use ${rubricCriteria.join(", ")}.`);
  for (const criterion of rubricCriteria)
    if (typeof record[criterion] !== "number")
      throw new InputError(`field "scores.${criterion}": an integer from 1 to 5 is required.`);
  return record as Record<RubricCriterion, number>;
}

/** Mean score per system and criterion, over every rater. */
function rubricMeans(ratings: readonly Rating[]) {
  const sums = new Map<string, { system: string; criterion: string; sum: number; n: number }>();
  for (const rating of ratings) {
    if (rating.kind !== "score") continue;
    const key = `${rating.system}\u0000${rating.criterion}`;
    const entry = sums.get(key) ?? { system: rating.system, criterion: rating.criterion, sum: 0, n: 0 };
    sums.set(key, { ...entry, sum: entry.sum + rating.score, n: entry.n + 1 });
  }
  return [...sums.values()].map(({ system, criterion, sum, n }) => ({ system, criterion, mean: sum / n, n }));
}

function summary(store: RatingsStore, options: RatingsApiOptions) {
  const ratings = store.ratings();
  return {
    raters: store.listRaters(),
    ratings: ratings.length,
    winRates: winRecords(store.pairwiseOutcomes()),
    rubric: rubricMeans(ratings),
    agreement: raterAgreement(ratings),
    // null: no judge was run on these items, so there is nothing to compare.
    judge: options.judge ? judgeHumanAgreement(ratings, options.judge) : null,
  };
}

/**
 * Handles a request if its path starts with /api/ratings; returns false otherwise so a larger
 * server (the console's) can mount it next to its own routes.
 */
export async function handleRatingsRequest(
  store: RatingsStore,
  request: http.IncomingMessage,
  response: http.ServerResponse,
  options: RatingsApiOptions = {},
): Promise<boolean> {
  const url = new URL(request.url ?? "/", "http://localhost");
  if (!url.pathname.startsWith("/api/ratings")) return false;
  try {
    const route = `${request.method} ${url.pathname.replace(/\/$/, "")}`;
    switch (route) {
      case "GET /api/ratings/tasks": {
        const rater = url.searchParams.get("rater")?.trim();
        if (!rater) throw new InputError('query "rater" is required (the name of the person rating).');
        const kind = url.searchParams.get("kind") ?? "preference";
        if (kind !== "preference" && kind !== "score")
          throw new InputError(`query "kind": must be "preference" or "score", got "${kind}".`);
        const limit = Number(url.searchParams.get("limit") ?? 20);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500)
          throw new InputError(`query "limit": an integer from 1 to 500, got "${url.searchParams.get("limit")}".`);
        const tasks = store.pendingTasks(rater, kind, limit).map((task) => toWire(rater, task, options));
        send(response, 200, { tasks });
        return true;
      }
      case "POST /api/ratings":
        send(response, 201, { rating: submit(store, await readJsonBody(request)) });
        return true;
      case "GET /api/ratings/export": {
        const format = url.searchParams.get("format") ?? "csv";
        if (format !== "csv" && format !== "jsonl")
          throw new InputError(`query "format": must be "csv" or "jsonl", got "${format}".`);
        response.setHeader("content-disposition", `attachment; filename="ratings.${format}"`);
        if (format === "csv") send(response, 200, store.exportRatingsCsv(), "text/csv; charset=utf-8");
        else send(response, 200, store.exportRatingsJsonl(), "application/jsonl; charset=utf-8");
        return true;
      }
      case "GET /api/ratings/summary":
        send(response, 200, summary(store, options));
        return true;
      default: {
        const known = ["/api/ratings/tasks", "/api/ratings", "/api/ratings/export", "/api/ratings/summary"];
        if (known.includes(url.pathname.replace(/\/$/, "")))
          throw new HttpError(405, `${request.method} is not allowed on ${url.pathname}.`);
        throw new HttpError(404, `no route ${url.pathname}.`);
      }
    }
  } catch (error) {
    if (error instanceof HttpError) send(response, error.status, { error: { message: error.message } });
    else if (VerticalError.isInstance(error))
      send(response, 400, {
        error: {
          message: error.message,
          ...(error.where ? { where: error.where } : {}),
          ...(error.hint ? { hint: error.hint } : {}),
        },
      });
    else send(response, 500, { error: { message: "internal error" } });
    if (!(error instanceof HttpError) && !VerticalError.isInstance(error)) console.error(error);
    return true;
  }
}

export interface RatingsServer {
  /** Base URL, e.g. "http://127.0.0.1:43123". */
  url: string;
  close(): Promise<void>;
}

/** A standalone server for the ratings API. Port 0 picks a free port. */
export async function startRatingsServer(
  store: RatingsStore,
  options: { host?: string; port?: number } & RatingsApiOptions = {},
): Promise<RatingsServer> {
  const { host = "127.0.0.1", port = 0, ...apiOptions } = options;
  const server = http.createServer((request, response) => {
    void handleRatingsRequest(store, request, response, apiOptions).then((handled) => {
      if (!handled) send(response, 404, { error: { message: `no route ${request.url}.` } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
