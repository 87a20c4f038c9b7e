/**
 * The forward graph is trainable the way a trainer will use it: trainable LoRA tensors and a soft
 * prompt marked as parameters in their own context, forward + backward through the scheduler,
 * gradients checked against central finite differences of the same graph.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Backend, Context, GgmlType, Graph, type Tensor } from "../../src/engine/index.js";
import { buildForward, createScheduler, loadModel, normalSampler, type LoraWeights } from "../../src/model/index.js";
import { writeTinyModel } from "./reference.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-grad-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

describe("backward through the llama-family graph", () => {
  it("LoRA and soft-prompt gradients match finite differences", async () => {
    const file = path.join(directory, "qwen3.gguf");
    await writeTinyModel(file, { architecture: "qwen3", layers: 1 });
    using backend = Backend.cpu(1);
    using model = loadModel(file, { backend });
    const E = model.hparams.embeddingLength;
    const B = 2;
    const T = 5;
    const P = 2;
    const rank = 2;

    // Trainable tensors in their own context and buffer.
    using trainable = new Context({ maxTensors: 8 });
    const q = model.weight("blk.0.attn_q.weight");
    const down = model.weight("blk.0.ffn_down.weight");
    const qA = trainable.tensor(GgmlType.F32, [q.shape[0], rank], "q.lora_a").markParameter();
    const qB = trainable.tensor(GgmlType.F32, [rank, q.shape[1]], "q.lora_b").markParameter();
    const dA = trainable.tensor(GgmlType.F32, [down.shape[0], rank], "down.lora_a").markParameter();
    const dB = trainable.tensor(GgmlType.F32, [rank, down.shape[1]], "down.lora_b").markParameter();
    const prompt = trainable.tensor(GgmlType.F32, [E, P], "soft_prompt").markParameter();
    using buffer = backend.allocate(trainable);
    expect(buffer.bytes).toBeGreaterThan(0);
    const noise = normalSampler(3);
    for (const tensor of [qA, qB, dA, dB, prompt])
      tensor.write(Float32Array.from({ length: tensor.elements }, () => noise() * 0.3));
    const lora: LoraWeights = new Map([
      ["blk.0.attn_q.weight", [{ a: qA, b: qB, scale: 1.5 }]],
      ["blk.0.ffn_down.weight", [{ a: dA, b: dB, scale: 1 }]],
    ]);

    // loss = sum(logits[selected rows] * R): linear in the logits, so every path is exercised.
    const size = 2048;
    using compute = new Context({ maxTensors: size * 3, graphBytes: Graph.bytesFor(size, true) * 2 });
    const rows = compute.tensor(GgmlType.I32, [3], "rows").markInput();
    const forward = buildForward(compute, model, { batch: B, length: T, lora, softPrompt: prompt, outputRows: rows });
    const weights = compute.tensor(GgmlType.F32, forward.logits!.shape.slice(0, 2), "loss_weights").markInput();
    const loss = compute.sum(compute.mul(forward.logits!, weights)).markOutput().markLoss();
    const graph = new Graph(compute, { size, gradients: true }).expand(loss).expandBackward();
    const { scheduler } = createScheduler(backend, size * 2);
    using _scheduler = scheduler;

    const ids = Int32Array.from({ length: B * T }, (_, i) => 100 + i * 37);
    const S = P + T;
    const rowIds = Int32Array.from([P + 1, S - 1, S + P + 3]);
    const lossWeights = Float32Array.from({ length: weights.elements }, () => noise());
    const evaluate = (): number => {
      scheduler.allocate(graph);
      forward.writeInputs(ids);
      rows.write(rowIds);
      weights.write(lossWeights);
      graph.resetGradients();
      scheduler.compute(graph);
      return loss.readFloats()[0]!;
    };

    evaluate();
    const checks: [Tensor, number[]][] = [
      [qA, [0, 17, 40]],
      [qB, [1, 30]],
      [dA, [5, 77]],
      [dB, [3, 20]],
      [prompt, [0, 9, E + 4]],
    ];
    const analytic = checks.map(([tensor]) => graph.gradient(tensor)!.readFloats());
    const noise32 = lossRoundingNoise(checks[0]![0], evaluate);
    const epsilon = 1e-2;
    const measurements: object[] = [];
    checks.forEach(([tensor, indices], k) => {
      for (const index of indices) {
        const numeric = centralDifference(tensor, index, epsilon, evaluate);
        const coarse = centralDifference(tensor, index, 2 * epsilon, evaluate);
        const exact = analytic[k]![index]!;
        const bound = finiteDifferenceBound(numeric, coarse, exact, noise32, epsilon);
        measurements.push({ tensor: tensor.name, index, numeric, exact, bound });
        expect(Math.abs(numeric - exact), `${tensor.name}[${index}]: ${numeric} vs ${exact} (bound ${bound})`).toBeLessThan(bound);
      }
    });
    console.log(`gradient-measurement ${JSON.stringify({ lossNoise: noise32, checks: measurements })}`);
    // Frozen weights get no gradient.
    expect(graph.gradient(model.weight("blk.0.attn_k.weight"))).toBeUndefined();
  });
});

/** (f(x + h) − f(x − h)) / 2h for one element of `tensor`, leaving it as it was. */
function centralDifference(tensor: Tensor, index: number, h: number, evaluate: () => number): number {
  const values = tensor.readFloats();
  const original = values[index]!;
  values[index] = original + h;
  tensor.write(values);
  const up = evaluate();
  values[index] = original - h;
  tensor.write(values);
  const down = evaluate();
  values[index] = original;
  tensor.write(values);
  return (up - down) / (2 * h);
}

/**
 * The f32 rounding noise of one loss evaluation on this machine, measured: nudging one weight by a
 * few parts per million changes the true loss by far less than rounding does, but reshuffles every
 * rounding downstream, so the spread of those losses is the noise. Why measured: ggml's CPU variants
 * sum in different orders and widths (sse42 without FMA, AVX-512 with), so the noise, and with it the
 * finite difference's error, is a property of the machine (sse42 gave a 2.3e-2 gap at h = 1e-2 where
 * zen4 gives under 1e-2).
 */
function lossRoundingNoise(tensor: Tensor, evaluate: () => number): number {
  const values = tensor.readFloats();
  const original = values[0]!;
  const losses: number[] = [];
  for (let k = 1; k <= 10; k++) {
    values[0] = original * (1 + k * 3e-6);
    tensor.write(values);
    losses.push(evaluate());
  }
  values[0] = original;
  tensor.write(values);
  // The nudges do move the true loss, linearly in k: the noise is the spread around the fitted line.
  const n = losses.length;
  const meanK = (n + 1) / 2;
  const meanLoss = losses.reduce((sum, loss) => sum + loss, 0) / n;
  const slope =
    losses.reduce((sum, loss, i) => sum + (i + 1 - meanK) * (loss - meanLoss), 0) /
    losses.reduce((sum, _loss, i) => sum + (i + 1 - meanK) ** 2, 0);
  const residuals = losses.map((loss, i) => loss - meanLoss - slope * (i + 1 - meanK));
  return Math.sqrt(residuals.reduce((sum, r) => sum + r * r, 0) / (n - 2));
}

/**
 * How far a correct gradient may sit from the central difference D(h): the truncation error, which
 * shrinks as h² so that |D(2h) − D(h)| ≈ 3× the error of D(h) bounds it, plus 6 standard deviations
 * of the rounding noise of D(h) (two losses of noise σ over 2h: σ / (√2 h)), plus f32's relative
 * error on the analytic gradient itself. A wrong gradient is off by the order of the gradient, far
 * above all three.
 */
function finiteDifferenceBound(fine: number, coarse: number, exact: number, lossNoise: number, h: number): number {
  return Math.abs(coarse - fine) + (6 * lossNoise) / (Math.SQRT2 * h) + 1e-3 * Math.max(1, Math.abs(exact));
}
