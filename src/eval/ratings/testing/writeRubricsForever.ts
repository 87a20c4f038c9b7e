/**
 * Child process for the kill -9 test: writes rubric ratings (three criteria in one transaction,
 * each with a 20 000-character comment, so a torn write would show) into the store named by
 * argv[2], one new rater per rubric, until killed.
 */
import { RatingsStore } from "../ratingsStore.js";

const store = RatingsStore.open(process.argv[2]!);
store.addItems([{ id: "q1", question: "Who guides ships into the harbour?", answers: { sft: "The pilot." } }]);
const comment = "c".repeat(19_999) + "!";
for (let index = 0; ; index++) {
  store.rateRubric({ rater: `rater ${index}`, itemId: "q1", system: "sft", scores: { correctness: 5, completeness: 4, fluency: 3 }, comment });
  if (index === 20) process.stdout.write("writing\n");
}
