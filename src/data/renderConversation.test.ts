import { Template } from "@huggingface/jinja";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { loadTokenizer } from "../tokenizer/index.js";
import { ChatTemplate } from "./chatTemplate.js";
import { type Conversation, type ConversationMessage, recordToConversation, validateConversation } from "./conversations.js";
import { renderConversation } from "./renderConversation.js";
import { type ReferenceTokenizer, llama31Tokenizer, qwen3Tokenizer } from "./testing/referenceTokenizers.js";

// Meta's Llama 3.1 Instruct template (tool branches removed): it always writes a system header
// with "Cutting Knowledge Date" and a date, whether or not the data has a system message.
const llama31OfficialTemplate = `{{- bos_token }}
{%- if not date_string is defined %}{%- set date_string = "26 Jul 2024" %}{%- endif %}
{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = "" %}{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}`;

// Qwen2.5's template (tools removed): a default system prompt when the data has none.
const qwen25Template = `{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}
{%- for message in messages %}{%- if message.role == "user" or message.role == "assistant" %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}`;

// A template that renders history differently once a later user turn exists (the last user turn is
// tagged): no single rendering serves every turn's inference prompt.
const historyRewritingTemplate = `{%- set ns = namespace(last=0) %}{%- for m in messages %}{%- if m.role == 'user' %}{%- set ns.last = loop.index0 %}{%- endif %}{%- endfor %}
{%- for m in messages %}{{- '<|im_start|>' + m.role + '\\n' }}{%- if loop.index0 == ns.last %}{{- '[latest] ' }}{%- endif %}{{- m.content + '<|im_end|>\\n' }}{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}`;

const multiTurn: ConversationMessage[] = [
  { role: "user", content: "What does a harbour pilot do?" },
  { role: "assistant", content: "A pilot boards a ship and guides it through the channel." },
  { role: "user", content: "引航员什么时候登船？" },
  { role: "assistant", content: "在船舶进入外航道之前登船。" },
  { role: "user", content: "And the tugboats?" },
  { role: "assistant", content: "Tugs push and pull large ships into the berth.\nThey also assist in strong wind." },
];

/** Independent render with @huggingface/jinja straight from tokenizer_config.json's template. */
function referenceRender(source: string, tokenizer: ReferenceTokenizer, messages: ConversationMessage[], addGenerationPrompt: boolean): string {
  return new Template(source).render({
    messages,
    add_generation_prompt: addGenerationPrompt,
    bos_token: tokenizer.bosId === undefined ? "" : tokenizer.idToToken(tokenizer.bosId),
    eos_token: tokenizer.eosId === undefined ? "" : tokenizer.idToToken(tokenizer.eosId),
  });
}

/** Decoded runs of consecutive mask=1 tokens. */
function maskedRuns(tokenizer: ReferenceTokenizer, tokens: number[], mask: Uint8Array): string[] {
  const runs: string[] = [];
  let current: number[] = [];
  tokens.forEach((token, i) => {
    if (mask[i]) current.push(token);
    else if (current.length) {
      runs.push(tokenizer.decode(current));
      current = [];
    }
  });
  if (current.length) runs.push(tokenizer.decode(current));
  return runs;
}

function conversation(messages: ConversationMessage[]): Conversation {
  return { messages, where: "chat.jsonl:1" };
}

const cases: { name: string; tokenizer: () => ReferenceTokenizer; template: (t: ReferenceTokenizer) => string; expectedRuns: (m: ConversationMessage[]) => string[] }[] = [
  {
    name: "Qwen3 (real template; think tags inserted on the final turn)",
    tokenizer: qwen3Tokenizer,
    template: (t) => t.config.chat_template,
    expectedRuns: (m) => {
      const replies = m.filter((x) => x.role === "assistant").map((x) => x.content);
      return replies.map((reply, i) => (i === replies.length - 1 ? `<think>\n\n</think>\n\n${reply}<|im_end|>` : `${reply}<|im_end|>`));
    },
  },
  {
    name: "Llama 3.1 (real template from @lenml)",
    tokenizer: llama31Tokenizer,
    template: (t) => t.config.chat_template,
    expectedRuns: (m) => m.filter((x) => x.role === "assistant").map((x) => `${x.content.trim()}<|eot_id|>`),
  },
  {
    name: "Llama 3.1 official (date / Cutting Knowledge Date system header)",
    tokenizer: llama31Tokenizer,
    template: () => llama31OfficialTemplate,
    expectedRuns: (m) => m.filter((x) => x.role === "assistant").map((x) => `${x.content.trim()}<|eot_id|>`),
  },
];

describe("renderConversation: chat-template fidelity", () => {
  for (const testCase of cases) {
    for (const withSystem of [false, true]) {
      it(`${testCase.name}${withSystem ? ", with a system message" : ""}: text, mask and prompts match the template`, () => {
        const tokenizer = testCase.tokenizer();
        const source = testCase.template(tokenizer);
        const messages: ConversationMessage[] = withSystem ? [{ role: "system", content: "You answer questions about ports." }, ...multiTurn] : multiTurn;
        const template = new ChatTemplate(source, tokenizer);
        const rendered = renderConversation(conversation(messages), template, tokenizer);
        expect(rendered.strategy).toBe("whole");
        const [example] = rendered.examples;
        // 1. The training text is the template's own rendering.
        expect(example!.text).toBe(referenceRender(source, tokenizer, messages, false));
        // Span-wise tokenization equals tokenizing the whole text (no token straddles a mask edge).
        expect(example!.tokens).toEqual(tokenizer.encode(example!.text));
        // 2. The mask covers exactly the assistant replies of every turn, with their end-of-turn token.
        expect(maskedRuns(tokenizer, example!.tokens, example!.lossMask)).toEqual(testCase.expectedRuns(messages));
        // 3. Before each reply, the tokens are exactly the inference prompt (add_generation_prompt).
        const maskStarts = [...example!.lossMask].flatMap((bit, i) => (bit && !example!.lossMask[i - 1] ? [i] : []));
        const assistantIndices = messages.flatMap((m, i) => (m.role === "assistant" ? [i] : []));
        expect(maskStarts.length).toBe(assistantIndices.length);
        assistantIndices.forEach((messageIndex, turn) => {
          const prompt = referenceRender(source, tokenizer, messages.slice(0, messageIndex), true);
          expect(example!.tokens.slice(0, maskStarts[turn])).toEqual(tokenizer.encode(prompt));
        });
      });
    }
  }

  it("keeps the template's default system prompt unless the data gives one", () => {
    const tokenizer = qwen3Tokenizer();
    const template = new ChatTemplate(qwen25Template, tokenizer);
    const plain = renderConversation(conversation(multiTurn), template, tokenizer).examples[0]!;
    expect(plain.text.startsWith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.")).toBe(true);
    const custom = renderConversation(conversation([{ role: "system", content: "Port assistant." }, ...multiTurn]), template, tokenizer).examples[0]!;
    expect(custom.text.startsWith("<|im_start|>system\nPort assistant.<|im_end|>")).toBe(true);
    expect(custom.text).not.toContain("Alibaba");
    expect(maskedRuns(tokenizer, plain.tokens, plain.lossMask)).toEqual(multiTurn.filter((m) => m.role === "assistant").map((m) => `${m.content}<|im_end|>`));
  });

  it("falls back to one example per turn when the template rewrites history, each with its exact inference prompt", () => {
    const tokenizer = qwen3Tokenizer();
    const template = new ChatTemplate(historyRewritingTemplate, tokenizer);
    const rendered = renderConversation(conversation(multiTurn), template, tokenizer);
    expect(rendered.strategy).toBe("per-turn");
    expect(rendered.examples.length).toBe(3);
    rendered.examples.forEach((example, turn) => {
      const messageIndex = turn * 2 + 1;
      const prompt = new Template(historyRewritingTemplate).render({ messages: multiTurn.slice(0, messageIndex), add_generation_prompt: true });
      expect(example.text.startsWith(prompt)).toBe(true);
      expect(maskedRuns(tokenizer, example.tokens, example.lossMask)).toEqual([`${multiTurn[messageIndex]!.content}<|im_end|>`]);
    });
  });

  it("rejects conversations that break the rules with file:line and the field", () => {
    const bad = recordToConversation({ messages: [{ role: "user", content: "hi" }, { role: "user", content: "again" }, { role: "assistant", content: "ok" }] }, "chat.jsonl:7");
    expect(() => validateConversation(bad)).toThrow('chat.jsonl:7: messages[1].role is "user", expected "assistant"');
    const empty = recordToConversation({ conversations: [{ from: "human", value: "hi" }, { from: "gpt", value: "  " }] }, "chat.jsonl:9");
    expect(() => validateConversation(empty)).toThrow("chat.jsonl:9: messages[1].content is empty");
    const lateSystem = recordToConversation({ messages: [{ role: "user", content: "hi" }, { role: "system", content: "x" }] }, "c.jsonl:2");
    expect(() => validateConversation(lateSystem)).toThrow('c.jsonl:2: messages[1].role is "system"; a system message may only come first');
    const endsWithUser = recordToConversation({ instruction: "q", output: "a", history: [] }, "a.jsonl:1");
    endsWithUser.messages.push({ role: "user", content: "more?" });
    expect(() => validateConversation(endsWithUser)).toThrow("must end with an assistant turn");
    const forged = recordToConversation({ messages: [{ role: "user", content: "hi<|im_end|>" }, { role: "assistant", content: "ok" }] }, "f.jsonl:3");
    expect(() => validateConversation(forged, { forbiddenTexts: ["<|im_end|>"] })).toThrow("f.jsonl:3: messages[0].content contains the special token text");
    // A template's own raise_exception becomes an InputError naming the record.
    const strict = new ChatTemplate("{%- if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with user') }}{%- endif %}{{ messages[0].content }}", qwen3Tokenizer());
    expect(() => renderConversation({ messages: [{ role: "system", content: "s" }, { role: "user", content: "u" }, { role: "assistant", content: "a" }], where: "s.jsonl:4" }, strict, qwen3Tokenizer())).toThrow(
      /s\.jsonl:4: messages: the chat template refused this conversation: .*must start with user/,
    );
  });

  it("gives the same tokens and masks with Vertical's own tokenizer (src/tokenizer) as with the HF reference", () => {
    const require = createRequire(import.meta.url);
    for (const [name, reference] of [["qwen3", qwen3Tokenizer()], ["llama3_1", llama31Tokenizer()]] as const) {
      const own = loadTokenizer(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
      expect(own.eotId ?? own.eosId).toBe(reference.eotId);
      const source = reference.config.chat_template;
      const expected = renderConversation(conversation(multiTurn), new ChatTemplate(source, reference), reference).examples[0]!;
      const actual = renderConversation(conversation(multiTurn), new ChatTemplate(source, own), own).examples[0]!;
      expect(actual.text).toBe(expected.text);
      expect(actual.tokens).toEqual(expected.tokens);
      expect([...actual.lossMask]).toEqual([...expected.lossMask]);
    }
  });

  it("renders strftime_now from a fixed date, so builds do not depend on the clock", () => {
    const template = new ChatTemplate("{{ strftime_now('%d %b %Y') }}|{{ range(3)|length }}", qwen3Tokenizer());
    expect(template.render([], false)).toBe("26 Jul 2024|3");
    const later = new ChatTemplate("{{ strftime_now('%Y-%m-%d') }}", qwen3Tokenizer(), { date: new Date(Date.UTC(2025, 0, 5)) });
    expect(later.render([], false)).toBe("2025-01-05");
  });

  it("imports Alpaca, ShareGPT and OpenAI records into the same messages", () => {
    const alpaca = recordToConversation({ instruction: "Define berth.", input: "Port glossary", output: "A place to moor.", system: "Be brief." }, "x:1");
    expect(alpaca.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Define berth.\n\nPort glossary" },
      { role: "assistant", content: "A place to moor." },
    ]);
    const shareGpt = recordToConversation({ conversations: [{ from: "human", value: "Q" }, { from: "gpt", value: "A" }] }, "x:2");
    const openAi = recordToConversation({ messages: [{ role: "user", content: [{ type: "text", text: "Q" }] }, { role: "assistant", content: "A" }] }, "x:3");
    expect(shareGpt.messages).toEqual(openAi.messages);
  });
});
