/**
 * The OpenAI request bodies `vertical serve` accepts, as zod schemas, and their conversion to the
 * capabilities' own types (ChatMessage, GenerateOptions). Unknown fields are accepted and ignored, as
 * OpenAI's clients send more than we use; fields we cannot honour (n > 1, logprobs, echo) are refused
 * with a 400 naming the field rather than silently ignored.
 */
import { z } from "zod";
import type { ChatMessage, GenerateOptions } from "../llm/types.js";
import { describeIssuePath } from "../shared/configIssues.js";
import { InputError } from "../shared/errors.js";

const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const messageSchema = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string(), z.array(textPart)]),
});

const stopSchema = z.union([z.string(), z.array(z.string()).max(4)]).nullish();
const onlyOne = z.literal(1, { error: "only n = 1 is supported (one answer per request)" }).nullish();

const samplingFields = {
  model: z.string().min(1),
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  stop: stopSchema,
  seed: z.number().int().nullish(),
  n: onlyOne,
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  user: z.string().nullish(),
};

export const chatRequestSchema = z.looseObject({
  ...samplingFields,
  messages: z.array(messageSchema).min(1),
  max_completion_tokens: z.number().int().positive().nullish(),
  logprobs: z.literal(false, { error: "logprobs are not served; leave it out" }).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

export const completionRequestSchema = z.looseObject({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).length(1, "send one prompt per request")]),
  echo: z.literal(false, { error: "echo is not served; leave it out" }).nullish(),
  logprobs: z.null({ error: "logprobs are not served; leave it out" }).optional(),
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

export const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1).max(256)]),
  encoding_format: z.enum(["float", "base64"]).nullish(),
});
export type EmbeddingRequest = z.infer<typeof embeddingRequestSchema>;

export const feedbackRequestSchema = z.strictObject({
  response_id: z.string().min(1),
  /** +1 thumbs up, -1 thumbs down. */
  rating: z.union([z.literal(1), z.literal(-1)]).optional(),
  correction: z.string().min(1).max(100_000).optional(),
  comment: z.string().max(10_000).optional(),
  user: z.string().max(200).optional(),
});
export type FeedbackRequest = z.infer<typeof feedbackRequestSchema>;

/** Parses a request body, throwing an InputError whose `where` is the first bad field (OpenAI's `param`). */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new InputError("the body must be a JSON object", { where: "body", hint: "Send Content-Type: application/json." });
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new InputError(issue.message, { where: describeIssuePath(issue.path) || "body" });
}

function textOf(content: ChatRequest["messages"][number]["content"]): string {
  return typeof content === "string" ? content : content.map((part) => part.text).join("");
}

/** OpenAI messages as ours: `developer` is the newer name of `system`; text parts are joined. */
export function toChatMessages(messages: ChatRequest["messages"]): ChatMessage[] {
  return messages.map((message) => ({
    role: message.role === "developer" ? "system" : message.role,
    content: textOf(message.content),
  }));
}

/** Sampling fields as GenerateOptions; `maxTokens` falls back to the system's default. */
export function toGenerateOptions(
  request: ChatRequest | CompletionRequest,
  defaultMaxTokens: number,
): Omit<GenerateOptions, "signal" | "onText"> {
  const newer = (request as Partial<ChatRequest>).max_completion_tokens;
  const maxTokens: number | null | undefined = newer ?? request.max_tokens;
  const stop = request.stop === null || request.stop === undefined ? [] : [request.stop].flat();
  return {
    maxTokens: maxTokens ?? defaultMaxTokens,
    temperature: request.temperature ?? 0,
    ...(request.top_p != null ? { topP: request.top_p } : {}),
    ...(request.seed != null ? { seed: request.seed } : {}),
    ...(stop.length > 0 ? { stop } : {}),
  };
}

/** OpenAI's finish_reason for ours ("abort" only reaches a client that is still there after a timeout). */
export function toFinishReason(reason: "stop" | "length" | "abort"): "stop" | "length" {
  return reason === "length" ? "length" : "stop";
}

/** A float vector as OpenAI's base64 encoding: the little-endian float32 bytes. */
export function toBase64Embedding(vector: Float32Array): string {
  const bytes = new Float32Array(vector);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
