// The console: lab runs, blind human rating, rating results, and a playground with feedback.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { LabPage } from "./LabPage";
import { PlaygroundPage } from "./PlaygroundPage";
import { RatePage } from "./RatePage";
import { ResultsPage } from "./ResultsPage";
import "./style.css";

const pages = {
  lab: { title: "Lab runs", view: LabPage },
  rate: { title: "Rate answers", view: RatePage },
  results: { title: "Rating results", view: ResultsPage },
  playground: { title: "Playground", view: PlaygroundPage },
} as const;
type PageName = keyof typeof pages;

const current = (): PageName => {
  const name = location.hash.replace(/^#\/?/, "");
  return name in pages ? (name as PageName) : "lab";
};

function App() {
  const [page, setPage] = useState<PageName>(current());
  useEffect(() => {
    const onHash = () => setPage(current());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  const View = pages[page].view;
  return (
    <>
      <nav>
        <strong>Vertical</strong>
        {Object.entries(pages).map(([name, { title }]) => (
          <a key={name} href={`#/${name}`} class={name === page ? "active" : ""}>
            {title}
          </a>
        ))}
      </nav>
      <main>
        <h1>{pages[page].title}</h1>
        <View />
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
