/**
 * A small HTTP server on 127.0.0.1 that speaks the OpenAI wire format, for tests of the OpenAI-compatible
 * backend and of evaluations against endpoints: chat and completions (JSON or SSE streaming), completions
 * with `echo` + `logprobs` (one token per character), embeddings, the model list (GET /models), and
 * scripted failures (429/500 first).
 * It records every request so tests can assert on what was sent.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeOpenAIServerOptions {
  /** The reply to a chat or completion request. Defaults to "The answer is A." */
  reply?: (input: { messages?: { role: string; content: string }[]; prompt?: string }) => string;
  /** Log-probability of the character `token` after `prefix`. Defaults to -1 for every character. */
  tokenLogprob?: (prefix: string, token: string) => number;
  /**
   * Alternatives for the first reply token when a chat request asks for `logprobs` (best first).
   * Defaults to the first character of the reply with log-probability -0.1.
   */
  chatFirstToken?: (messages: { role: string; content: string }[]) => { token: string; logprob: number }[];
  /** When false, completions and chat answers carry no logprobs (like many chat-only servers). Defaults to true. */
  logprobs?: boolean;
  /** Statuses to answer with, in order, before answering normally (e.g. [429, 500]). */
  failures?: number[];
  /** Retry-After header value for 429 answers. */
  retryAfterSeconds?: number;
  /** Delay before answering, in ms. */
  delayMs?: number;
  /** Port to listen on (to bring a stopped server back at the same address). Defaults to any free port. */
  port?: number;
  /** Embedding width. Defaults to 8. */
  dimensions?: number;
  /**
   * Chat answers with tool calls: given the wire messages and tools of a (non-streamed) chat request,
   * the reply's content and `tool_calls` (finish_reason "tool_calls" when there are calls). Overrides `reply`.
   */
  toolTurn?: (input: { messages: Record<string, unknown>[]; tools: Record<string, unknown>[] }) => {
    content: string | null;
    toolCalls?: { name: string; arguments: string }[];
  };
}

export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FakeOpenAIServer {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Most requests in flight at once, for concurrency-limit tests. */
  maxInFlight: number;
  close(): Promise<void>;
}

function embeddingOf(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (let i = 0; i < text.length; i++) vector[i % dimensions]! += text.charCodeAt(i) / 1000;
  return vector;
}

export async function startFakeOpenAIServer(options: FakeOpenAIServerOptions = {}): Promise<FakeOpenAIServer> {
  const failures = [...(options.failures ?? [])];
  const reply = options.reply ?? (() => "The answer is A.");
  const tokenLogprob = options.tokenLogprob ?? (() => -1);
  const state = { requests: [] as RecordedRequest[], inFlight: 0, maxInFlight: 0 };

  const server = http.createServer(async (request, response) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      let raw = "";
      for await (const chunk of request) raw += chunk;
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      const path = (request.url ?? "").replace(/^\/v1/, "");
      state.requests.push({ path, headers: request.headers, body });
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const failure = failures.shift();
      if (failure !== undefined) {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (failure === 429 && options.retryAfterSeconds !== undefined)
          headers["retry-after"] = String(options.retryAfterSeconds);
        response.writeHead(failure, headers).end(JSON.stringify({ error: { message: `scripted failure ${failure}` } }));
        return;
      }
      if (path === "/models") {
        response
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ object: "list", data: [{ id: "fake", object: "model" }] }));
        return;
      }
      if (path === "/embeddings") {
        const inputs = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input)];
        const data = inputs.map((text, index) => ({
          object: "embedding",
          index,
          embedding: embeddingOf(text, options.dimensions ?? 8),
        }));
        response
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ object: "list", data, usage: { prompt_tokens: 0, total_tokens: 0 } }));
        return;
      }
      const isChat = path === "/chat/completions";
      if (!isChat && path !== "/completions") {
        response
          .writeHead(404, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { message: `no route ${path}` } }));
        return;
      }
      const messages = body.messages as { role: string; content: string }[] | undefined;
      const prompt = body.prompt as string | undefined;
      const text = reply({ messages, prompt });
      const promptTokens = (prompt ?? messages?.map((message) => message.content).join("") ?? "").length;
      const usage = {
        prompt_tokens: promptTokens,
        completion_tokens: text.length,
        total_tokens: promptTokens + text.length,
      };

      if (!isChat && body.echo === true) {
        // One token per character; the first has no log-probability (nothing precedes it), as OpenAI answers.
        const generated = "X";
        const full = prompt! + generated;
        const tokens = [...full];
        const offsets: number[] = [];
        let offset = 0;
        for (const token of tokens) {
          offsets.push(offset);
          offset += token.length;
        }
        const tokenLogprobs = tokens.map((token, i) =>
          i === 0 ? null : tokenLogprob(tokens.slice(0, i).join(""), token),
        );
        const logprobs =
          options.logprobs === false
            ? null
            : {
                tokens,
                token_logprobs: tokenLogprobs,
                top_logprobs: tokens.map((token, i) => (i === 0 ? null : { [token]: tokenLogprobs[i]! })),
                text_offset: offsets,
              };
        response.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            id: "cmpl-1",
            object: "text_completion",
            choices: [{ index: 0, text: full, finish_reason: "length", logprobs }],
            usage,
          }),
        );
        return;
      }
      if (body.stream === true) {
        response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const pieces = text.match(/.{1,3}/gsu) ?? [];
        for (const piece of pieces) {
          const choice = isChat
            ? { index: 0, delta: { content: piece }, finish_reason: null }
            : { index: 0, text: piece, finish_reason: null };
          response.write(`data: ${JSON.stringify({ id: "chunk", choices: [choice] })}\n\n`);
        }
        const last = isChat
          ? { index: 0, delta: {}, finish_reason: "stop" }
          : { index: 0, text: "", finish_reason: "stop" };
        response.write(`data: ${JSON.stringify({ id: "chunk", choices: [last] })}\n\n`);
        response.write(`data: ${JSON.stringify({ id: "chunk", choices: [], usage })}\n\n`);
        response.end("data: [DONE]\n\n");
        return;
      }
      if (isChat && body.logprobs === true) {
        const alternatives = options.chatFirstToken?.(messages!) ?? [{ token: text.slice(0, 1), logprob: -0.1 }];
        const logprobs =
          options.logprobs === false
            ? null
            : {
                content: [
                  { token: alternatives[0]!.token, logprob: alternatives[0]!.logprob, top_logprobs: alternatives },
                ],
              };
        const first = {
          index: 0,
          message: { role: "assistant", content: alternatives[0]!.token },
          finish_reason: "length",
          logprobs,
        };
        response
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ id: "1", choices: [first], usage: { ...usage, completion_tokens: 1 } }));
        return;
      }
      if (isChat && options.toolTurn) {
        const turn = options.toolTurn({
          messages: body.messages as Record<string, unknown>[],
          tools: (body.tools as Record<string, unknown>[] | undefined) ?? [],
        });
        const toolCalls = (turn.toolCalls ?? []).map((call, index) => ({
          id: `call_${state.requests.length}_${index}`,
          type: "function",
          function: { name: call.name, arguments: call.arguments },
        }));
        const message = {
          role: "assistant",
          content: turn.content,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        };
        const finish = toolCalls.length > 0 ? "tool_calls" : "stop";
        response
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ id: "1", choices: [{ index: 0, message, finish_reason: finish }], usage }));
        return;
      }
      const choice = isChat
        ? { index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }
        : { index: 0, text, finish_reason: "stop", logprobs: null };
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ id: "1", choices: [choice], usage }));
    } catch (error) {
      response.writeHead(500).end(String(error));
    } finally {
      state.inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests: state.requests,
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
