// Blind rating: a rater signs in with a name, then rates pairs (which answer is better; system names
// never reach the browser, the left/right order is balanced by the server) and single answers on a
// rubric (correctness, completeness, fluency, 1–5 each). The reference answer shows when the server
// is configured to send it (`vertical serve --reference shown|hidden`).
// Keys: ← or 1 left, → or 2 right, t tie, s skip; on rubric tasks 1–5 scores the highlighted
// criterion and moves to the next (the third sends), Backspace goes back, s skip.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, post } from "./api";

interface Task {
  taskId: string;
  kind: "preference" | "score";
  question: string;
  reference?: string;
  left?: string;
  right?: string;
  answer?: string;
  criteria?: string[];
}

const preferenceKeys: Record<string, "left" | "right" | "tie"> = { ArrowLeft: "left", "1": "left", ArrowRight: "right", "2": "right", t: "tie" };

export function RatePage() {
  const [rater, setRater] = useState(localStorage.getItem("vertical.rater") ?? "");
  const [signedIn, setSignedIn] = useState(false);
  const [kind, setKind] = useState<"preference" | "score">("preference");
  const [tasks, setTasks] = useState<Task[]>([]);
  const [done, setDone] = useState(0);
  const [error, setError] = useState("");
  // The rubric being filled in for the current task, criterion by criterion.
  const [rubric, setRubric] = useState<Record<string, number>>({});

  const load = async (which: "preference" | "score") => {
    const body = await get<{ tasks: Task[] }>(`/api/ratings/tasks?rater=${encodeURIComponent(rater)}&kind=${which}&limit=200`);
    setKind(which);
    setTasks(body.tasks);
    setRubric({});
    // Progress counts this kind of task: switching kinds starts its own count.
    setDone(0);
  };
  const task = tasks[0];
  const next = () => (setRubric({}), setTasks((all) => all.slice(1)));
  const criteria = task?.criteria ?? [];
  const activeCriterion = criteria.find((criterion) => rubric[criterion] === undefined);
  // One submission at a time, and never a second one for a task already rated (a key pressed before
  // the next task has rendered).
  const busy = useRef(false);
  const rated = useRef(new Set<string>());
  const submit = async (rating: { choice: "left" | "right" | "tie" } | { scores: Record<string, number> }) => {
    if (!task || busy.current || rated.current.has(task.taskId)) return;
    busy.current = true;
    try {
      await post("/api/ratings", { rater, taskId: task.taskId, ...rating });
      rated.current.add(task.taskId);
      setDone((count) => count + 1);
      next();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      busy.current = false;
    }
  };

  // The listener is registered once and calls the handler of the latest render: effects run after
  // paint, so a listener re-registered per render could still see the previous task for a moment
  // and rate it twice.
  const onKey = useRef<(event: KeyboardEvent) => void>(() => {});
  const score = (criterion: string, value: number) => {
    const filled = { ...rubric, [criterion]: value };
    setRubric(filled);
    if (criteria.every((name) => filled[name] !== undefined)) void submit({ scores: filled });
  };
  onKey.current = (event: KeyboardEvent) => {
    if (!signedIn || !task || (event.target as HTMLElement).tagName === "INPUT") return;
    if (event.key === "s") return next();
    if (kind === "preference" && preferenceKeys[event.key]) return void submit({ choice: preferenceKeys[event.key]! });
    if (kind === "score" && /^[1-5]$/.test(event.key) && activeCriterion) return score(activeCriterion, Number(event.key));
    if (kind === "score" && event.key === "Backspace") {
      const last = [...criteria].reverse().find((criterion) => rubric[criterion] !== undefined);
      if (last) setRubric(Object.fromEntries(Object.entries(rubric).filter(([name]) => name !== last)));
    }
  };
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    addEventListener("keydown", listener);
    return () => removeEventListener("keydown", listener);
  }, []);

  if (!signedIn)
    return (
      <form
        class="card"
        onSubmit={(event) => {
          event.preventDefault();
          if (!rater.trim()) return;
          localStorage.setItem("vertical.rater", rater.trim());
          setSignedIn(true);
          void load("preference");
        }}
      >
        <label>
          Your name <input name="rater" value={rater} onInput={(event) => setRater((event.target as HTMLInputElement).value)} />
        </label>{" "}
        <button class="primary" type="submit">Start rating</button>
      </form>
    );

  const total = done + tasks.length;
  return (
    <>
      <p>
        Rating as <strong>{rater}</strong> — {kind === "preference" ? "pairwise: which answer is better?" : "rubric: score this answer 1–5 on each criterion"}{" "}
        <button onClick={() => void load(kind === "preference" ? "score" : "preference")}>{kind === "preference" ? "Switch to rubric tasks" : "Switch to pairwise tasks"}</button>
      </p>
      <div class="progress"><div style={{ width: `${total ? (100 * done) / total : 0}%` }} /></div>
      <p class="keys" data-testid="progress">{done} rated, {tasks.length} left</p>
      {error && <p class="error">{error}</p>}
      {!task ? (
        <p>No tasks left here.</p>
      ) : (
        <div class="card" data-testid="task">
          <h3>{task.question}</h3>
          {task.reference && <p data-testid="reference"><em>Reference answer:</em> {task.reference}</p>}
          {task.kind === "preference" ? (
            <>
              <div class="pair">
                <div class="card answer" data-testid="left">{task.left}</div>
                <div class="card answer" data-testid="right">{task.right}</div>
              </div>
              <button onClick={() => void submit({ choice: "left" })}>Left is better (←)</button>{" "}
              <button onClick={() => void submit({ choice: "tie" })}>Tie (t)</button>{" "}
              <button onClick={() => void submit({ choice: "right" })}>Right is better (→)</button>{" "}
              <button onClick={next}>Skip (s)</button>
            </>
          ) : (
            <>
              <div class="card answer">{task.answer}</div>
              <table class="rubric">
                <tbody>
                  {criteria.map((criterion) => (
                    <tr key={criterion} class={criterion === activeCriterion ? "active" : ""} data-testid={`criterion-${criterion}`}>
                      <th>{criterion}</th>
                      <td>
                        {[1, 2, 3, 4, 5].map((value) => (
                          <button key={value} class={rubric[criterion] === value ? "chosen" : ""} onClick={() => score(criterion, value)}>{value}</button>
                        ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <button onClick={next}>Skip (s)</button>
            </>
          )}
          <p class="keys">Keys: {task.kind === "preference" ? "← / 1 left, → / 2 right, t tie" : "1–5 scores the highlighted criterion, Backspace goes back"}, s skip</p>
        </div>
      )}
    </>
  );
}
