// The console talks to `vertical serve` over HTTP only (the same OpenAI routes any client uses, plus /api/…).

export interface Citation {
  index: number;
  source: string;
  text: string;
  score: number;
  cited: boolean;
}

export interface ChatAnswer {
  id: string;
  content: string;
  citations: Citation[];
}

const apiKey = () => localStorage.getItem("vertical.apiKey") ?? "";

async function call<T>(url: string, init: RequestInit = {}, asked = false): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (apiKey()) headers.authorization = `Bearer ${apiKey()}`;
  const response = await fetch(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
  // A server started with --api-keys: ask once for the key, keep it in this browser, try again.
  if (response.status === 401 && !asked) {
    const key = prompt("This server needs an API key:");
    if (key) {
      localStorage.setItem("vertical.apiKey", key.trim());
      return call<T>(url, init, true);
    }
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  return body as T;
}

export const get = <T>(url: string) => call<T>(url);
export const post = <T>(url: string, body: unknown) => call<T>(url, { method: "POST", body: JSON.stringify(body) });

export async function listModels(): Promise<string[]> {
  return (await get<{ data: { id: string }[] }>("/v1/models")).data.map((model) => model.id);
}

export async function ask(model: string, question: string): Promise<ChatAnswer> {
  const answer = await post<{ id: string; choices: { message: { content: string } }[]; citations?: Citation[] }>("/v1/chat/completions", {
    model,
    messages: [{ role: "user", content: question }],
  });
  return { id: answer.id, content: answer.choices[0]?.message.content ?? "", citations: answer.citations ?? [] };
}

export function sendFeedback(responseId: string, feedback: { rating?: 1 | -1; correction?: string }) {
  return post("/v1/feedback", { response_id: responseId, ...feedback });
}
