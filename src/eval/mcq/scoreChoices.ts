/**
 * Turning per-option log-likelihoods into predictions, exactly as lm-evaluation-harness does for
 * `multiple_choice` tasks (lm_eval/api/task.py, ConfigurableTask.process_results):
 *
 *   completion_len = np.array([float(len(i)) for i in choices])
 *   pred      = np.argmax(lls)                    # acc
 *   pred_norm = np.argmax(lls / completion_len)   # acc_norm
 *
 * `choices` are the option strings WITHOUT the target delimiter (the " " lm-eval puts in front of
 * each continuation), and `len` is Python's str length: Unicode code points, not bytes and not
 * tokens. np.argmax returns the first index on ties; so do these functions.
 */

/** Python's len(str): the number of Unicode code points (a surrogate pair counts once). */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Index of the largest value; the first one on ties (numpy argmax). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export interface ChoicePredictions {
  /** argmax of the summed log-likelihoods (lm-eval `acc`). */
  prediction: number;
  /** argmax of log-likelihood / code-point length of the choice text (lm-eval `acc_norm`). */
  predictionNorm: number;
}

/** `logprobs[i]` is the summed log-likelihood of `choices[i]` (the continuation, delimiter excluded from `choices`). */
export function predictFromLoglikelihoods(logprobs: readonly number[], choices: readonly string[]): ChoicePredictions {
  if (logprobs.length !== choices.length || logprobs.length === 0)
    throw new RangeError(
      `need one log-likelihood per choice: ${logprobs.length} log-likelihoods, ${choices.length} choices`,
    );
  const normalised = logprobs.map((logprob, i) => logprob / codePointLength(choices[i]!));
  return { prediction: argmax(logprobs), predictionNorm: argmax(normalised) };
}
