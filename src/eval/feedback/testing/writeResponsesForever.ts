/**
 * Child process for the kill -9 test: records responses with feedback into the store named by argv[2]
 * as fast as it can, each answer 20 000 characters (so a torn write would show), until killed.
 */
import { FeedbackStore } from "../feedbackStore.js";

const store = FeedbackStore.open(process.argv[2]!);
const answer = "a".repeat(19_999) + "!";
for (let index = 0; ; index++) {
  const id = `chatcmpl-${process.pid}-${index}`;
  store.recordResponse({ id, system: "base", messages: [{ role: "user", content: `question ${index}` }], question: `question ${index}`, answer, passages: [] });
  store.addFeedback({ responseId: id, rating: -1, correction: `correction ${index}` });
  if (index === 20) process.stdout.write("writing\n");
}
