/**
 * The server's HTTP behaviour on loopback with the official `openai` client, unmodified, in front of
 * scripted systems (no model: these pin statuses, shapes, queueing, cancellation and shutdown; the
 * real-model tests are in serve.native.test.ts).
 */
import crypto from "node:crypto";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { FeedbackStore } from "../eval/feedback/feedbackStore.js";
import { ApiKeys } from "./apiKeys.js";
import { createServer, type AccessLogEntry, type ServeOptions, type VerticalServer } from "./createServer.js";
import { ScriptedSystem } from "./testing/scriptedSystem.js";

let server: VerticalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Partial<ServeOptions> = {}) {
  const log: AccessLogEntry[] = [];
  server = createServer({ systems: [new ScriptedSystem()], accessLog: (entry) => log.push(entry), ...options });
  const url = await server.listen();
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "sk-test", maxRetries: 0 });
  return { url, client, log };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

describe("vertical serve over HTTP (scripted systems)", () => {
  it("answers chat, streaming chat, completions, embeddings and the model list like OpenAI", async () => {
    const { client, log } = await start();
    expect((await client.models.list()).data.map((model) => model.id)).toEqual(["scripted"]);
    const chat = await client.chat.completions.create({ model: "scripted", messages: [{ role: "user", content: "Fee?" }] });
    expect(chat.choices[0]!.message.content).toBe("The harbour fee is twelve yuan.");
    expect(chat.choices[0]!.finish_reason).toBe("stop");
    expect(chat.usage?.completion_tokens).toBe(6);
    expect(chat.id).toMatch(/^chatcmpl-/);

    const stream = await client.chat.completions.create({ model: "scripted", messages: [{ role: "user", content: "Fee?" }], stream: true, stream_options: { include_usage: true } });
    const pieces: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      pieces.push(chunk.choices[0]?.delta.content ?? "");
      usage = chunk.usage ?? usage;
    }
    expect(pieces.join("")).toBe("The harbour fee is twelve yuan.");
    expect(pieces.filter(Boolean).length).toBe(6);
    expect(usage?.completion_tokens).toBe(6);

    const completion = await client.completions.create({ model: "scripted", prompt: "The fee", max_tokens: 2 });
    expect(completion.choices[0]!.text).toBe("The harbour ");
    expect(completion.choices[0]!.finish_reason).toBe("length");

    // The client asks for base64 by default and decodes it; float must give the same numbers.
    const embedded = await client.embeddings.create({ model: "scripted", input: ["ab", "abcd"] });
    expect(embedded.data.map((item) => item.embedding)).toEqual([[2, 1, 0.5], [4, 1, 0.5]]);
    const floats = await client.embeddings.create({ model: "scripted", input: "abc", encoding_format: "float" });
    expect(floats.data[0]!.embedding).toEqual([3, 1, 0.5]);

    const chatLine = log.find((entry) => entry.url === "/v1/chat/completions");
    expect(chatLine).toMatchObject({ method: "POST", status: 200, model: "scripted", completionTokens: 6, aborted: false });
  });

  it("answers bad requests in OpenAI's error shape, naming the field", async () => {
    const { url, client } = await start();
    const unknown = await client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).param).toBe("model");
    expect((unknown as Error).message).toContain('"nope" does not exist');

    const manyAnswers = await client.chat.completions.create({ model: "scripted", n: 2, messages: [{ role: "user", content: "x" }] }).catch((error: unknown) => error);
    expect(manyAnswers).toBeInstanceOf(OpenAI.BadRequestError);
    expect((manyAnswers as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("n");

    const malformed = await post(`${url}/v1/chat/completions`, '{"model": "scripted", "messages": [');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { param: string; type: string } }).error).toMatchObject({ param: "body", type: "invalid_request_error" });

    const wrongType = await post(`${url}/v1/chat/completions`, JSON.stringify({ model: "scripted", messages: [{ role: "user", content: 5 }] }));
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { error: { param: string } }).error.param).toBe("messages[0].content");

    const temperature = await post(`${url}/v1/completions`, JSON.stringify({ model: "scripted", prompt: "x", temperature: "hot" }));
    expect(((await temperature.json()) as { error: { param: string } }).error.param).toBe("temperature");

    const big = await post(`${url}/v1/chat/completions`, JSON.stringify({ model: "scripted", messages: [{ role: "user", content: "x".repeat(10_000_000) }] }));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe("request_too_large");

    const route = await fetch(`${url}/v1/nothing`);
    expect(route.status).toBe(404);
    expect(((await route.json()) as { error: { message: string } }).error.message).toContain("/v1/nothing");
  });

  it("wants a right Bearer key on /v1 when keys are set, comparing in constant time", async () => {
    const { url, client } = await start({ apiKeys: new ApiKeys(["sk-right", "sk-other"]) });
    const wrong = await client.models.list().catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
    const right = new OpenAI({ baseURL: `${url}/v1`, apiKey: "sk-other", maxRetries: 0 });
    expect((await right.models.list()).data).toHaveLength(1);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/api/ratings/summary`)).status).toBe(401); // the console's API is guarded too
    // The comparison is over fixed-length digests of every key, so a near miss does the same work as a far one.
    const keys = new ApiKeys(["sk-right"]);
    expect(() => keys.check("Bearer sk-righ")).toThrow(/wrong API key/);
    expect(() => keys.check(`Bearer ${crypto.randomBytes(64).toString("hex")}`)).toThrow(/wrong API key/);
    expect(() => keys.check(undefined)).toThrow(/wrong API key/);
    expect(() => keys.check("Bearer sk-right")).not.toThrow();
  });

  it("refuses with 429 and Retry-After when a model's queue is full, and counts it in /metrics", async () => {
    const slow = new ScriptedSystem({ msPerToken: 30, maxWaiting: 1 });
    const { url } = await start({ systems: [slow] });
    const ask = () => post(`${url}/v1/chat/completions`, JSON.stringify({ model: "scripted", messages: [{ role: "user", content: "x" }] }));
    const answers = await Promise.all([ask(), ask(), ask(), ask()]);
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 200, 429, 429]);
    const refused = answers.find((answer) => answer.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: { type: string } }).error.type).toBe("rate_limit_error");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/vertical_queue_rejections_total\{model="scripted"\} 2/);
    expect(metrics).toMatch(/vertical_http_requests_total\{route="\/v1\/chat\/completions",status="429"\} 2/);
    expect(metrics).toMatch(/vertical_generated_tokens_total\{model="scripted"\} 12/);
    expect(metrics).toContain("vertical_http_request_duration_seconds_bucket");
  });

  it("stops the generation when a streaming client disconnects", async () => {
    const slow = new ScriptedSystem({ msPerToken: 40, answer: Array.from({ length: 50 }, (_, i) => `w${i}`).join(" ") });
    const { client, log } = await start({ systems: [slow] });
    const controller = new AbortController();
    const stream = await client.chat.completions.create({ model: "scripted", messages: [{ role: "user", content: "x" }], stream: true }, { signal: controller.signal });
    let received = 0;
    // The client ends the iteration quietly (or with an abort error, depending on timing) once aborted.
    await (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content && ++received === 3) controller.abort();
    })().catch(() => undefined);
    expect(received).toBe(3);
    await expect.poll(() => slow.producedTokens.length).toBe(1);
    expect(slow.producedTokens[0]).toBeLessThan(10);
    await expect.poll(() => log.find((entry) => entry.url === "/v1/chat/completions")?.aborted).toBe(true);
  });

  it("finishes requests in flight on close, refuses new ones with 503, then disposes the models", async () => {
    const slow = new ScriptedSystem({ msPerToken: 25 });
    const { url } = await start({ systems: [slow] });
    const body = JSON.stringify({ model: "scripted", messages: [{ role: "user", content: "x" }] });
    const inFlight = post(`${url}/v1/chat/completions`, body);
    await expect.poll(() => slow.queue.active).toBe(1);
    const closing = server!.close();
    server = undefined;
    // A request on a connection that was already open gets 503; a new connection is refused.
    const late = await post(`${url}/v1/chat/completions`, body).then((answer) => answer.status, () => "refused");
    expect([503, "refused"]).toContain(late);
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe("The harbour fee is twelve yuan.");
    await closing;
    expect(slow.disposed).toBe(true);
  });

  it("stores feedback on a served answer and refuses feedback on an unknown id", async () => {
    const feedback = FeedbackStore.open(":memory:");
    const { url, client } = await start({ feedback });
    const chat = await client.chat.completions.create({ model: "scripted", messages: [{ role: "user", content: "Fee?" }] });
    const stored = await post(`${url}/v1/feedback`, JSON.stringify({ response_id: chat.id, rating: -1, correction: "Fourteen yuan." }));
    expect(stored.status).toBe(201);
    const [record] = feedback.feedback();
    expect(record).toMatchObject({ rating: -1, correction: "Fourteen yuan.", response: { id: chat.id, system: "scripted", question: "Fee?", answer: "The harbour fee is twelve yuan." } });
    const unknown = await post(`${url}/v1/feedback`, JSON.stringify({ response_id: "chatcmpl-nope", rating: 1 }));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { param: string } }).error.param).toBe("response_id");
    const empty = await post(`${url}/v1/feedback`, JSON.stringify({ response_id: chat.id }));
    expect(empty.status).toBe(400);
    feedback.dispose();
  });
});

describe("time limits", () => {
  it("answers 504 when the generation or the wait for a slot runs past --timeout", async () => {
    const slow = new ScriptedSystem({ msPerToken: 100 });
    const { url } = await start({ systems: [slow], requestTimeoutMs: 250 });
    const ask = () => post(`${url}/v1/chat/completions`, JSON.stringify({ model: "scripted", messages: [{ role: "user", content: "x" }] }));
    const [running, queued] = await Promise.all([ask(), ask()]);
    expect(running.status).toBe(504);
    expect(((await running.json()) as { error: { code: string } }).error.code).toBe("timeout");
    expect(queued.status).toBe(504);
    expect(slow.producedTokens[0]).toBeLessThan(6); // the generation itself was stopped, not left running
  });
});
