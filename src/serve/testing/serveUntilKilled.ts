/**
 * Child process for the kill -9 test of the server: `vertical serve`'s server with a scripted system,
 * a ratings store and a feedback store (files named by argv[2], argv[3]); prints its URL, then
 * serves until killed.
 */
import { FeedbackStore } from "../../eval/feedback/feedbackStore.js";
import { RatingsStore } from "../../eval/ratings/ratingsStore.js";
import { createServer } from "../createServer.js";
import { ScriptedSystem } from "./scriptedSystem.js";

const ratings = RatingsStore.open(process.argv[2]!);
ratings.addItems([{ id: "q1", question: "Who guides ships into the harbour?", answers: { sft: "The pilot." } }]);
const feedback = FeedbackStore.open(process.argv[3]!);
const server = createServer({
  systems: [new ScriptedSystem({ name: "sft", answer: "The pilot station guides ships into the harbour." })],
  feedback,
  accessLog: () => {},
  console: { consoleDirectory: "/nonexistent", ratings },
});
process.stdout.write(`${await server.listen()}\n`);
