/** Test support: analytic gradients against central differences, for any loss graph over a trainable set. */
import type { TrainableSet } from "../trainable.js";

/**
 * Relative errors of `analytic` against central differences of `loss()` on the `entries` largest-|g| values of each
 * named parameter (each value moved by ±1e-2·max(1, |value|), then restored).
 */
export function centralDifferenceErrors(
  trainable: TrainableSet,
  names: string[],
  analytic: Map<string, Float32Array>,
  loss: () => number,
  entries: number,
): number[] {
  const errors: number[] = [];
  for (const name of names) {
    const parameter = trainable.parameters.find((candidate) => candidate.name === name)!;
    const values = parameter.tensor.readFloats().slice();
    const gradient = analytic.get(name)!;
    const largest = [...gradient.keys()].sort((a, b) => Math.abs(gradient[b]!) - Math.abs(gradient[a]!)).slice(0, entries);
    for (const index of largest) {
      const original = values[index]!;
      const epsilon = 1e-2 * Math.max(1, Math.abs(original));
      values[index] = original + epsilon;
      parameter.tensor.write(values);
      const plus = loss();
      values[index] = original - epsilon;
      parameter.tensor.write(values);
      const minus = loss();
      values[index] = original;
      parameter.tensor.write(values);
      const numeric = (plus - minus) / (2 * epsilon);
      errors.push(Math.abs(numeric - gradient[index]!) / Math.max(Math.abs(numeric), Math.abs(gradient[index]!), 1e-3));
    }
  }
  return errors;
}
