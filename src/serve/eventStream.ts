/**
 * Server-sent events on a raw Node response, started lazily: headers go out with the first event, so
 * anything that fails before the first token (a prompt too long, a full queue) is still an ordinary
 * JSON error with its status. A client that goes away ends the stream's `signal`, which stops the
 * generation feeding it.
 */
import type { ServerResponse } from "node:http";

export class EventStream {
  private started = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly beforeStart: () => void,
    private readonly headers: Record<string, string> = {},
  ) {}

  get isStarted(): boolean {
    return this.started;
  }

  /** True once the client is gone (the socket closed before the stream ended). */
  get isClosed(): boolean {
    return this.response.destroyed || this.response.writableEnded;
  }

  send(data: unknown): void {
    this.start();
    if (!this.isClosed) this.response.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  }

  end(): void {
    this.start();
    if (!this.isClosed) this.response.end("data: [DONE]\n\n");
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.beforeStart();
    this.response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...this.headers,
    });
  }
}
