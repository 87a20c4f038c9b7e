/**
 * What the web console (web/, built into web/dist by `npm run build:web`) needs from the server
 * beside the OpenAI routes: the built pages at `/`, the lab's comparison and progress, the human
 * ratings API (src/serve/ratingsApi.ts, mounted as it is) and the Bradley–Terry ranking the ratings
 * store's outcomes give (src/eval/stats), so the console shows exactly what the library computes.
 */
import fs from "node:fs";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { RatingsStore } from "../eval/ratings/ratingsStore.js";
import { bradleyTerryWithIntervals } from "../eval/stats/bradleyTerry.js";
import { readLabProgress } from "../lab/labProgressFile.js";
import { LAB_STATE_FILE } from "../lab/labState.js";
import { NotFoundError } from "../shared/errors.js";
import { handleRatingsRequest, type RatingsApiOptions } from "./ratingsApi.js";

export interface ConsoleOptions {
  /** The built console (index.html + assets/). */
  consoleDirectory: string;
  ratings?: RatingsStore;
  /** Whether raters see references, and the judge's verdicts to compare with people. */
  ratingsApi?: RatingsApiOptions;
  /** The lab's out folder, for the lab page. */
  labOut?: string;
}

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

const notBuilt = `<!doctype html><title>Vertical console</title><p>The console is not built: run <code>npm run build:web</code> and reload.</p>`;

function readJson(file: string): unknown {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : null;
}

export function registerConsoleRoutes(app: FastifyInstance, options: ConsoleOptions): void {
  const root = path.resolve(options.consoleDirectory);

  app.get("/", async (_request, reply) => {
    const index = path.join(root, "index.html");
    return reply.type("text/html; charset=utf-8").send(fs.existsSync(index) ? fs.readFileSync(index) : notBuilt);
  });
  app.get<{ Params: { "*": string } }>("/assets/*", async (request, reply) => {
    const file = path.resolve(root, "assets", request.params["*"]);
    // Only files inside the built assets folder, never a path that climbs out of it.
    if (!file.startsWith(path.join(root, "assets") + path.sep) || !fs.existsSync(file))
      throw new NotFoundError(`no console asset ${request.params["*"]}`, { where: "url" });
    return reply.type(contentTypes[path.extname(file)] ?? "application/octet-stream").send(fs.readFileSync(file));
  });

  app.get("/api/console/lab", async () => {
    if (!options.labOut) return { lab: null };
    const state = readJson(path.join(options.labOut, LAB_STATE_FILE)) as { steps?: Record<string, { seconds: number; finishedAt: string }> } | null;
    return {
      lab: {
        out: options.labOut,
        comparison: readJson(path.join(options.labOut, "comparison.json")),
        progress: readLabProgress(options.labOut),
        steps: Object.entries(state?.steps ?? {}).map(([name, record]) => ({ name, seconds: record.seconds, finishedAt: record.finishedAt })),
      },
    };
  });

  const ratings = options.ratings;
  if (!ratings) return;
  app.get("/api/console/ranking", async () => {
    const outcomes = ratings.pairwiseOutcomes();
    return { comparisons: outcomes.length, bradleyTerry: outcomes.length ? bradleyTerryWithIntervals(outcomes, { samples: 200 }) : [] };
  });
  // The ratings API reads its own body: this scope leaves the stream unread for it.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
    const mount = async (request: import("fastify").FastifyRequest, reply: import("fastify").FastifyReply) => {
      reply.hijack();
      await handleRatingsRequest(ratings, request.raw, reply.raw, options.ratingsApi ?? {});
    };
    scope.all("/api/ratings", mount);
    scope.all("/api/ratings/*", mount);
  });
}
