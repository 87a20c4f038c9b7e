// Chat with any served system (or two side by side); citations open the passage they point to; every
// answer takes a thumbs up/down (▲ Good / ▼ Bad) and a corrected answer, stored through POST /v1/feedback.
import { useEffect, useState } from "preact/hooks";
import { ask, listModels, sendFeedback, type ChatAnswer } from "./api";

function AnswerCard({ model, answer }: { model: string; answer: ChatAnswer }) {
  const [open, setOpen] = useState<number | null>(null);
  const [correction, setCorrection] = useState("");
  const [sent, setSent] = useState("");
  const give = async (feedback: { rating?: 1 | -1; correction?: string }) => {
    await sendFeedback(answer.id, feedback);
    setSent("Thanks — feedback saved.");
  };
  return (
    <div class="card" data-testid="answer">
      <p class="keys">{model}</p>
      <div class="answer">{answer.content}</div>
      {answer.citations.length > 0 && (
        <p>
          Sources:{" "}
          {answer.citations.map((citation) => (
            <span key={citation.index} class="citation" onClick={() => setOpen(open === citation.index ? null : citation.index)}>
              [{citation.index}] {citation.source}{" "}
            </span>
          ))}
        </p>
      )}
      {open !== null && <div class="passage">{answer.citations.find((citation) => citation.index === open)?.text}</div>}
      <button title="good answer" onClick={() => void give({ rating: 1 })}>▲ Good</button>{" "}
      <button title="bad answer" onClick={() => void give({ rating: -1, ...(correction.trim() ? { correction: correction.trim() } : {}) })}>▼ Bad</button>
      <textarea placeholder="The correct answer (optional; sent with ▼ Bad)" rows={2} value={correction} onInput={(event) => setCorrection((event.target as HTMLTextAreaElement).value)} />
      {sent && <p>{sent}</p>}
    </div>
  );
}

export function PlaygroundPage() {
  const [models, setModels] = useState<string[]>([]);
  const [left, setLeft] = useState("");
  const [right, setRight] = useState("");
  const [question, setQuestion] = useState("");
  const [answers, setAnswers] = useState<{ model: string; answer: ChatAnswer }[]>([]);
  const [error, setError] = useState("");
  useEffect(() => void listModels().then((names) => (setModels(names), setLeft(names[0] ?? ""))), []);
  const send = async () => {
    setError("");
    try {
      const chosen = [left, ...(right ? [right] : [])];
      setAnswers(await Promise.all(chosen.map(async (model) => ({ model, answer: await ask(model, question) }))));
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const select = (value: string, set: (value: string) => void, optional: boolean) => (
    <select value={value} onChange={(event) => set((event.target as HTMLSelectElement).value)}>
      {optional && <option value="">(no second system)</option>}
      {models.map((model) => <option key={model} value={model}>{model}</option>)}
    </select>
  );
  return (
    <>
      <p>System {select(left, setLeft, false)} side by side with {select(right, setRight, true)}</p>
      <textarea name="question" rows={3} placeholder="Ask a question" value={question} onInput={(event) => setQuestion((event.target as HTMLTextAreaElement).value)} />
      <p><button class="primary" onClick={() => void send()}>Ask</button></p>
      {error && <p class="error">{error}</p>}
      <div class={answers.length > 1 ? "pair" : ""}>
        {answers.map(({ model, answer }) => <AnswerCard key={answer.id} model={model} answer={answer} />)}
      </div>
    </>
  );
}
