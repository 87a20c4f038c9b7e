import { afterAll, afterEach, describe, expect, it } from "vitest";
import { BackendError } from "../shared/errors.js";
import { OpenAICompatibleBackend } from "./openaiCompatible.js";
import { chatModelContract, tokenScorerContract } from "./testing/backendContract.js";
import { startFakeOpenAIServer, type FakeOpenAIServer } from "./testing/fakeOpenAIServer.js";

let server: FakeOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const fast = { baseDelayMs: 5, maxRetries: 3, timeoutMs: 2000 };

describe("OpenAICompatibleBackend against a loopback OpenAI-format server", () => {
  it("chats without streaming and sends model, sampling fields and the API key", async () => {
    server = await startFakeOpenAIServer({ reply: ({ messages }) => `echo: ${messages?.at(-1)?.content}` });
    const backend = new OpenAICompatibleBackend({ model: "tiny", baseUrl: server.baseUrl, apiKey: "sk-test", ...fast });
    const generation = await backend.chat([{ role: "user", content: "港口?" }], { maxTokens: 7, stop: ["\n"] });
    expect(generation.text).toBe("echo: 港口?");
    expect(generation.finishReason).toBe("stop");
    expect(generation.usage.completionTokens).toBe("echo: 港口?".length);
    const sent = server.requests[0]!;
    expect(sent.path).toBe("/chat/completions");
    expect(sent.headers.authorization).toBe("Bearer sk-test");
    expect(sent.body).toMatchObject({ model: "tiny", max_tokens: 7, temperature: 0, stop: ["\n"] });
  });

  it("streams chat and completions over SSE, calling onText with each piece", async () => {
    server = await startFakeOpenAIServer({ reply: () => "The answer is (C), because 港口国监督." });
    const backend = new OpenAICompatibleBackend({ model: "tiny", baseUrl: server.baseUrl, ...fast });
    for (const run of [
      (onText: (delta: string) => void) => backend.chat([{ role: "user", content: "q" }], { onText }),
      (onText: (delta: string) => void) => backend.complete("q", { onText }),
    ]) {
      const pieces: string[] = [];
      const generation = await run((delta) => pieces.push(delta));
      expect(pieces.length).toBeGreaterThan(3);
      expect(pieces.join("")).toBe("The answer is (C), because 港口国监督.");
      expect(generation.text).toBe(pieces.join(""));
      expect(generation.usage.completionTokens).toBeGreaterThan(0);
    }
    expect(server.requests.map((request) => request.body.stream)).toEqual([true, true]);
  });

  it("scores continuations from echoed prompt log-probabilities", async () => {
    // Log-probability of each character: -0.5 for "A", -2 otherwise.
    server = await startFakeOpenAIServer({ tokenLogprob: (_prefix, token) => (token === "A" ? -0.5 : -2) });
    const backend = new OpenAICompatibleBackend({ model: "tiny", baseUrl: server.baseUrl, ...fast });
    const [a, bc] = await backend.score([
      { context: "Q: x\nAnswer:", continuation: " A" },
      { context: "Q: x\nAnswer:", continuation: " BC" },
    ]);
    expect(a).toMatchObject({
      logprob: -2.5,
      tokenLogprobs: [-2, -0.5],
      tokenCount: 2,
      contextTokenCount: 12,
      isGreedy: true,
    });
    expect(bc).toMatchObject({ logprob: -6, tokenCount: 3 });
    expect(server.requests[0]!.body).toMatchObject({
      echo: true,
      logprobs: 1,
      max_tokens: 1,
      prompt: "Q: x\nAnswer: A",
    });
  });

  it("reads letter log-probabilities from the first chat token's alternatives", async () => {
    server = await startFakeOpenAIServer({
      chatFirstToken: () => [
        { token: " B", logprob: -0.2 },
        { token: "A", logprob: -1.5 },
        { token: "**C", logprob: -3 },
        { token: "Because", logprob: -4 },
      ],
    });
    const backend = new OpenAICompatibleBackend({ model: "tiny", baseUrl: server.baseUrl, ...fast });
    const { logprobs, usage } = await backend.firstTokenLogprobs(
      [{ role: "user", content: "Q?\nAnswer:" }],
      ["A", "B", "C", "D"],
    );
    expect(logprobs).toEqual([-1.5, -0.2, -3, null]);
    expect(usage.completionTokens).toBe(1);
    expect(server.requests[0]!.body).toMatchObject({ max_tokens: 1, temperature: 0, logprobs: true, top_logprobs: 20 });
  });

  it("says clearly when the server gives no logprobs", async () => {
    server = await startFakeOpenAIServer({ logprobs: false });
    const backend = new OpenAICompatibleBackend({ model: "tiny", baseUrl: server.baseUrl, ...fast });
    await expect(backend.score([{ context: "a", continuation: "b" }])).rejects.toThrow(
      /no prompt log-probabilities[\s\S]*scoring: generate/,
    );
    await expect(backend.firstTokenLogprobs([{ role: "user", content: "q" }], ["A"])).rejects.toThrow(
      /no token log-probabilities for chat[\s\S]*logprobs: false/,
    );
  });

  it("retries 429 and 500 with backoff, then succeeds", async () => {
    server = await startFakeOpenAIServer({ failures: [429, 500, 503], retryAfterSeconds: 0 });
    const backend = new OpenAICompatibleBackend({ model: "tiny", baseUrl: server.baseUrl, ...fast });
    const generation = await backend.complete("hello");
    expect(generation.text).toBe("The answer is A.");
    expect(server.requests).toHaveLength(4);
  });

  it("gives up after the retries with the endpoint and status in the error", async () => {
    server = await startFakeOpenAIServer({ failures: [500, 500, 500, 500, 500] });
    const backend = new OpenAICompatibleBackend({ model: "tiny", baseUrl: server.baseUrl, ...fast, maxRetries: 2 });
    const error = await backend.chat([{ role: "user", content: "x" }]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(/\/chat\/completions: HTTP 500.*scripted failure 500.*after 3 attempts/s);
    expect(server.requests).toHaveLength(3);
  });

  it("does not retry a 4xx that will not change, and hints at the key", async () => {
    server = await startFakeOpenAIServer({ failures: [401] });
    const backend = new OpenAICompatibleBackend({ model: "tiny", baseUrl: server.baseUrl, ...fast });
    await expect(backend.complete("x")).rejects.toThrow(/HTTP 401[\s\S]*Hint: Check the API key/);
    expect(server.requests).toHaveLength(1);
  });

  it("names an unreachable endpoint", async () => {
    // A port that was just free: nothing listens there.
    const probe = await startFakeOpenAIServer();
    const closedUrl = probe.baseUrl;
    await probe.close();
    const backend = new OpenAICompatibleBackend({ model: "tiny", baseUrl: closedUrl, ...fast, maxRetries: 1 });
    const error = await backend.complete("x").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toContain(`${closedUrl}/completions: cannot connect: ECONNREFUSED`);
    expect((error as Error).message).toMatch(/after 2 attempts[\s\S]*Hint: Is the server running/);
  });

  it("times out a silent server", async () => {
    server = await startFakeOpenAIServer({ delayMs: 500 });
    const backend = new OpenAICompatibleBackend({
      model: "tiny",
      baseUrl: server.baseUrl,
      baseDelayMs: 1,
      maxRetries: 0,
      timeoutMs: 50,
    });
    await expect(backend.complete("x")).rejects.toThrow(/no answer within 50 ms/);
  });

  it("keeps at most maxConcurrency requests in flight", async () => {
    server = await startFakeOpenAIServer({ delayMs: 30 });
    const backend = new OpenAICompatibleBackend({ model: "tiny", baseUrl: server.baseUrl, ...fast, maxConcurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, (_, i) => backend.complete(`q${i}`)));
    expect(server.requests).toHaveLength(6);
    expect(server.maxInFlight).toBe(2);
  });

  it("embeds texts in order", async () => {
    server = await startFakeOpenAIServer({ dimensions: 4 });
    const backend = new OpenAICompatibleBackend({ model: "embed", baseUrl: server.baseUrl, ...fast });
    const vectors = await backend.embed(["a", "bb"]);
    expect(vectors.map((vector) => vector.length)).toEqual([4, 4]);
    expect(vectors[1]![0]).toBeCloseTo(98 / 1000, 6);
    expect(backend.dimensions).toBe(4);
  });
});

// The shared backend contract, against the loopback server (one token per character).
const contractServers: FakeOpenAIServer[] = [];
afterAll(async () => Promise.all(contractServers.map((contractServer) => contractServer.close())));
async function openContractBackend(): Promise<OpenAICompatibleBackend> {
  const contractServer = await startFakeOpenAIServer({
    tokenLogprob: (prefix, token) => -1 - ((prefix.length + token.charCodeAt(0)) % 5) / 2,
  });
  contractServers.push(contractServer);
  return new OpenAICompatibleBackend({ model: "tiny", baseUrl: contractServer.baseUrl, ...fast });
}
tokenScorerContract("openai-compatible (loopback)", openContractBackend);
chatModelContract("openai-compatible (loopback)", openContractBackend);
