import { describe, expect, it } from "vitest";
import { RecordingChatModel } from "../eval/testing/recordingChatModel.js";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { exemplarsFrom } from "./evaluateRoute.js";
import { routeChatModel } from "./routeChatModels.js";

describe("routeChatModel", () => {
  const retriever = new Bm25Retriever([
    { id: "en-fee#0", documentId: "en-fee", text: "The night surcharge is 35%." },
    { id: "zh-fee#0", documentId: "zh-fee", text: "夜间附加费为35%。" },
  ]);

  it("asks a plain-text route by completion, with passages and same-language exemplars, stopping at the line end", async () => {
    const backend = new RecordingChatModel("m", () => " 35%\n");
    const model = routeChatModel(backend, {
      chat: false,
      retriever,
      k: 1,
      exemplars: [
        { question: "What colour is snow?", answer: "white" },
        { question: "雪是什么颜色？", answer: "白色" },
      ],
    });
    const reply = await model.chat([{ role: "user", content: "What is the night surcharge?" }]);
    expect(reply.text).toBe("35%");
    const call = backend.calls[0]!;
    expect(call.kind).toBe("complete");
    expect(call.messages[0]!.content).toBe(
      "Reference passages (cite them as [n]):\n[1] (en-fee) The night surcharge is 35%.\n\nQuestion: What colour is snow?\nAnswer: white\n\nQuestion: What is the night surcharge?\nAnswer:",
    );
    expect(call.options?.stop).toEqual(["\n"]);
  });

  it("asks a chat route through chat(), keeping the system prompt and putting context into the user turn", async () => {
    const backend = new RecordingChatModel("m", () => "是35%。");
    const model = routeChatModel(backend, { chat: true, retriever, k: 1 });
    await model.chat([
      { role: "system", content: "你是助手。" },
      { role: "user", content: "夜间附加费是多少？" },
    ]);
    const call = backend.calls[0]!;
    expect(call.kind).toBe("chat");
    expect(call.messages).toEqual([
      { role: "system", content: "你是助手。" },
      { role: "user", content: "参考资料（引用时请标注[编号]）：\n[1] (zh-fee) 夜间附加费为35%。\n\n夜间附加费是多少？" },
    ]);
  });

  it("refuses to ask once interrupted", async () => {
    const controller = new AbortController();
    controller.abort();
    const model = routeChatModel(new RecordingChatModel("m", () => ""), { chat: true, signal: controller.signal });
    await expect(model.chat([{ role: "user", content: "x" }])).rejects.toThrow(/interrupted/);
  });

  it("takes few-shot exemplars from the dev MCQ file, per language", () => {
    const exemplars = exemplarsFrom("examples/harbor/eval/mcq-dev.jsonl", 2);
    expect(exemplars).toHaveLength(4);
    expect(exemplars.filter((exemplar) => /\p{Script=Han}/u.test(exemplar.question))).toHaveLength(2);
  });
});
