import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { BackendError } from "../shared/errors.js";
import { EndpointPool } from "./endpointPool.js";
import {
  startFakeOpenAIServer,
  type FakeOpenAIServer,
  type FakeOpenAIServerOptions,
} from "./testing/fakeOpenAIServer.js";

const servers: FakeOpenAIServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: FakeOpenAIServerOptions = {}): Promise<FakeOpenAIServer> {
  const server = await startFakeOpenAIServer({ reply: ({ prompt }) => `re: ${prompt}`, ...options });
  servers.push(server);
  return server;
}

/** An address where nothing listens: a port taken and released again. */
async function deadUrl(): Promise<{ url: string; port: number }> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return { url: `http://127.0.0.1:${port}/v1`, port };
}

const fast = { baseDelayMs: 20, maxDelayMs: 2000, timeoutMs: 2000, probeIntervalMs: 100 };
const prompts = (n: number) => Array.from({ length: n }, (_, i) => `q${i}`);

function completions(server: FakeOpenAIServer): number {
  return server.requests.filter((request) => request.path === "/completions").length;
}

describe("EndpointPool", () => {
  it("spreads requests by least-outstanding, within each endpoint's concurrency, results in input order", async () => {
    const a = await start({ delayMs: 40 });
    const b = await start({ delayMs: 40 });
    const c = await start({ delayMs: 40 });
    const pool = new EndpointPool({
      model: "m",
      endpoints: [{ baseUrl: a.baseUrl }, { baseUrl: b.baseUrl }, { baseUrl: c.baseUrl, maxConcurrency: 2 }],
      ...fast,
    });
    expect(pool.concurrency).toBe(4);
    const answers = await Promise.all(prompts(12).map((prompt) => pool.complete(prompt)));
    expect(answers.map((answer) => answer.text)).toEqual(prompts(12).map((prompt) => `re: ${prompt}`));
    expect([a.maxInFlight, b.maxInFlight, c.maxInFlight]).toEqual([1, 1, 2]);
    // c takes two at a time, so about half of the work; a and b a quarter each.
    expect(completions(a) + completions(b) + completions(c)).toBe(12);
    expect(completions(c)).toBeGreaterThanOrEqual(5);
    expect(completions(a)).toBeGreaterThanOrEqual(2);
    expect(completions(b)).toBeGreaterThanOrEqual(2);
    expect(pool.counts().map((entry) => [entry.failures, entry.retries, entry.state])).toEqual([
      [0, 0, "up"],
      [0, 0, "up"],
      [0, 0, "up"],
    ]);
  });

  it("sends a request that got 429 elsewhere and counts the failure and the retry", async () => {
    const busy = await start({ failures: [429], retryAfterSeconds: 5 });
    const idle = await start();
    const pool = new EndpointPool({
      model: "m",
      endpoints: [{ baseUrl: busy.baseUrl }, { baseUrl: idle.baseUrl }],
      ...fast,
    });
    const started = performance.now();
    const [first, second] = await Promise.all([pool.complete("x"), pool.complete("y")]);
    expect([first!.text, second!.text]).toEqual(["re: x", "re: y"]);
    // The busy endpoint rests for its Retry-After (5 s); the request did not wait for it.
    expect(performance.now() - started).toBeLessThan(2000);
    const [busyCounts, idleCounts] = pool.counts();
    expect(busyCounts).toMatchObject({ requests: 1, failures: 1, retries: 0, state: "resting" });
    expect(idleCounts).toMatchObject({ requests: 2, failures: 0, retries: 1, state: "up" });
  });

  it("honours Retry-After when the only endpoint is busy", async () => {
    const busy = await start({ failures: [429], retryAfterSeconds: 0.4 });
    const pool = new EndpointPool({ model: "m", endpoints: [{ baseUrl: busy.baseUrl }], ...fast });
    const started = performance.now();
    expect((await pool.complete("x")).text).toBe("re: x");
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(pool.counts()[0]).toMatchObject({ requests: 2, failures: 1, retries: 1 });
  });

  it("backs off from an endpoint that answers 500 and finishes the work on the others", async () => {
    const broken = await start({ failures: Array.from({ length: 50 }, () => 500) });
    const good = await start({ delayMs: 10 });
    const pool = new EndpointPool({
      model: "m",
      endpoints: [{ baseUrl: broken.baseUrl }, { baseUrl: good.baseUrl }],
      ...fast,
    });
    const answers = await Promise.all(prompts(10).map((prompt) => pool.complete(prompt)));
    expect(answers.map((answer) => answer.text)).toEqual(prompts(10).map((prompt) => `re: ${prompt}`));
    const [brokenCounts, goodCounts] = pool.counts();
    expect(brokenCounts!.failures).toBe(brokenCounts!.requests);
    // Each failure doubles its rest (20, 40, 80 ms …), so it sees only a few of the ten requests.
    expect(brokenCounts!.requests).toBeLessThanOrEqual(5);
    expect(goodCounts).toMatchObject({ requests: 10, failures: 0 });
    // Every failed attempt was sent again (to the good endpoint, or to the broken one after its rest).
    expect(brokenCounts!.retries + goodCounts!.retries).toBe(brokenCounts!.failures);
  });

  it("takes a slow endpoint out after a timeout", async () => {
    const slow = await start({ delayMs: 1500 });
    const quick = await start();
    const pool = new EndpointPool({
      model: "m",
      endpoints: [{ baseUrl: slow.baseUrl }, { baseUrl: quick.baseUrl }],
      ...fast,
      timeoutMs: 300,
      probeIntervalMs: 60_000,
    });
    const answers = await Promise.all(prompts(4).map((prompt) => pool.complete(prompt)));
    expect(answers.map((answer) => answer.text)).toEqual(prompts(4).map((prompt) => `re: ${prompt}`));
    expect(pool.counts()[0]).toMatchObject({ requests: 1, failures: 1, state: "down" });
  });

  it("takes a dead endpoint out, probes it, and uses it again once it answers", async () => {
    const dead = await deadUrl();
    const live = await start();
    const pool = new EndpointPool({
      model: "m",
      endpoints: [{ baseUrl: dead.url }, { baseUrl: live.baseUrl }],
      ...fast,
    });
    await Promise.all(prompts(4).map((prompt) => pool.complete(prompt)));
    expect(pool.counts()[0]).toMatchObject({ requests: 1, failures: 1, state: "down" });
    expect(pool.counts()[1]).toMatchObject({ requests: 4, retries: 1 });

    const revived = await start({ port: dead.port, delayMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    // The next request starts the due probe; the one after finds the endpoint back in rotation.
    await pool.complete("wake");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all(prompts(4).map((prompt) => pool.complete(prompt)));
    expect(revived.requests.some((request) => request.path === "/models")).toBe(true);
    expect(completions(revived)).toBeGreaterThanOrEqual(1);
    expect(pool.counts()[0]!.state).toBe("up");
  });

  it("does not resend a request that would fail anywhere (404)", async () => {
    const server = await start();
    const pool = new EndpointPool({ model: "m", endpoints: [{ baseUrl: `${server.baseUrl}/nowhere` }], ...fast });
    await expect(pool.complete("x")).rejects.toThrow(/HTTP 404/);
    expect(pool.counts()[0]).toMatchObject({ requests: 1, failures: 1, retries: 0 });
  });

  it("fails with the endpoints' states when none answers in time", async () => {
    const one = await deadUrl();
    const two = await deadUrl();
    const pool = new EndpointPool({
      model: "m",
      endpoints: [{ baseUrl: one.url }, { baseUrl: two.url }],
      ...fast,
      timeoutMs: 400,
    });
    const error = await pool.complete("x").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(/no endpoint could take the request within 400 ms/);
    expect((error as Error).message).toContain(`${one.url} down`);
  });

  it("routes each scoring request on its own and keeps their order", async () => {
    const a = await start({ delayMs: 20, tokenLogprob: (_prefix, token) => (token === "A" ? -0.5 : -2) });
    const b = await start({ delayMs: 20, tokenLogprob: (_prefix, token) => (token === "A" ? -0.5 : -2) });
    const pool = new EndpointPool({ model: "m", endpoints: [{ baseUrl: a.baseUrl }, { baseUrl: b.baseUrl }], ...fast });
    const scores = await pool.score([
      { context: "Q:", continuation: " A" },
      { context: "Q:", continuation: " BC" },
      { context: "Q:", continuation: "A" },
    ]);
    expect(scores.map((score) => score.logprob)).toEqual([-2.5, -6, -0.5]);
    expect(completions(a)).toBeGreaterThanOrEqual(1);
    expect(completions(b)).toBeGreaterThanOrEqual(1);
  });
});
