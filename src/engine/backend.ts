/**
 * Backends (where tensors live and graphs run), their buffers, computation graphs and the
 * scheduler that spreads a graph over several backends. Every object has an explicit lifetime:
 * `dispose()` (or `using`) frees the native side, and any later use throws DisposedError.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import koffi from "koffi";
import { defaultNativeVariable, settings } from "../config.js";
import { DisposedError, EngineError } from "../shared/errors.js";
import { Context, type Tensor } from "./context.js";
import type { Device } from "./discovery.js";
import { loadGgml, pointerArray, readShape, readType, SetThreadsProto, tensorLayout, type Ggml, type Pointer } from "./ffi.js";
import { GgmlType } from "./types.js";

/** GGML_TENSOR_FLAG_COMPUTE: ggml skips nodes without it. */
const tensorFlagCompute = 16;

/** Node growth factor assumed for ggml_build_backward_expand. */
const backwardGrowth = 4;

/** Sources of a tensor (ggml_tensor.src[0..9]). */
function sourcesOf(tensor: Pointer): Pointer[] {
  const sources = koffi.decode(tensor, tensorLayout.src, "uint64_t", 10) as BigUint64Array | number[];
  const out: Pointer[] = [];
  for (const source of sources) if (source) out.push(BigInt(source));
  return out;
}

/** Nodes and leaves ggml_build_forward_expand would add for `root`, given what the graph holds. */
function countNew(root: Pointer, visited: ReadonlySet<bigint>): { nodes: number; leaves: number } {
  const seen = new Set<bigint>();
  const stack = [root];
  let nodes = 0;
  let leaves = 0;
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    if (visited.has(tensor) || seen.has(tensor)) continue;
    seen.add(tensor);
    const op = koffi.decode(tensor, tensorLayout.op, "int32_t") as number;
    const flags = koffi.decode(tensor, tensorLayout.flags, "int32_t") as number;
    if (op === 0 && (flags & 4) === 0) leaves++;
    else nodes++;
    stack.push(...sourcesOf(tensor));
  }
  return { nodes, leaves };
}

function markVisited(root: Pointer, visited: Set<bigint>): void {
  const stack = [root];
  while (stack.length > 0) {
    const tensor = stack.pop()!;
    if (visited.has(tensor)) continue;
    visited.add(tensor);
    stack.push(...sourcesOf(tensor));
  }
}

/** ggml_backend_dev_type values. */
const deviceTypeCpu = 0;
const deviceTypeGpu = 1;
const deviceTypeIntegratedGpu = 2;
const deviceTypeAccelerator = 3;
/** Where `npm run build:blas` (scripts/build-ggml-blas.sh) puts the library: .cache/ggml-blas in the package. */
export function defaultBlasLibrary(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../.cache/ggml-blas/libggml-blas.so");
}
/** BLAS backend libraries loaded so far (ggml_backend_load registers a library once per process). */
const loadedBlas = new Map<string, Pointer>();

/** Validates a thread count: ggml must never see 0 or a negative count. */
export function checkThreads(threads: number, where = "threads"): number {
  if (!Number.isInteger(threads) || threads <= 0)
    throw new EngineError(`thread count must be a positive integer, got ${threads}`, {
      where,
      hint: "pass --threads N with N >= 1 (or set VERTICAL_THREADS)",
    });
  return threads;
}

const statusNames: Record<number, string> = { [-2]: "allocation failed", [-1]: "failed", 1: "aborted" };

abstract class Owned implements Disposable {
  protected handle: Pointer | undefined;
  constructor(
    handle: Pointer,
    protected readonly kind: string,
  ) {
    this.handle = handle;
  }
  get pointer(): Pointer {
    if (this.handle === undefined) throw new DisposedError(`this ${this.kind} was disposed`);
    return this.handle;
  }
  get disposed(): boolean {
    return this.handle === undefined;
  }
  protected abstract free(handle: Pointer): void;
  dispose(): void {
    if (this.handle === undefined) return;
    const handle = this.handle;
    this.handle = undefined;
    this.free(handle);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Memory on a backend holding the tensors of one context. */
export class BackendBuffer extends Owned {
  constructor(
    private readonly ggml: Ggml,
    handle: Pointer,
    readonly backend: Backend,
  ) {
    super(handle, "backend buffer");
  }
  get bytes(): number {
    return this.ggml.ggml_backend_buffer_get_size(this.pointer) as number;
  }
  /** Sets every byte to `value` (0 zeroes all float tensors in it). */
  clear(value = 0): void {
    this.ggml.ggml_backend_buffer_clear(this.pointer, value);
  }
  /** Tells the scheduler these are weights, so ops run where the weights are. */
  markWeights(): void {
    this.ggml.ggml_backend_buffer_set_usage(this.pointer, 1);
  }
  protected free(handle: Pointer): void {
    this.ggml.ggml_backend_buffer_free(handle);
  }
}

export interface BackendOptions {
  /** Threads for CPU work; required, > 0. Also used for the CPU part of a GPU run. */
  threads: number;
  /** "cpu", "cuda" or "vulkan". Defaults to settings().device (VERTICAL_DEVICE, else "cpu"). */
  device?: Device;
}

/** A ggml backend: the CPU (best variant for this processor) or a GPU. */
export class Backend extends Owned {
  readonly ggml: Ggml;
  readonly device: Device;
  private threadCount: number;

  private constructor(ggml: Ggml, handle: Pointer, device: Device, threads: number) {
    super(handle, "backend");
    this.ggml = ggml;
    this.device = device;
    this.threadCount = threads;
    if (device === "cpu") this.setThreads(threads);
  }

  /** The CPU backend with `threads` threads. */
  static cpu(threads: number): Backend {
    return Backend.create({ threads, device: "cpu" });
  }

  /** A backend for `device`; CUDA/Vulkan only when node-llama-cpp's package for it is installed. */
  static create(options: BackendOptions): Backend {
    const threads = checkThreads(options.threads);
    const device = options.device ?? settings().device;
    const { ggml } = loadGgml(device);
    const wanted = device === "cpu" ? [deviceTypeCpu] : [deviceTypeGpu, deviceTypeIntegratedGpu];
    const count = ggml.ggml_backend_dev_count() as number;
    for (let i = 0; i < count; i++) {
      const dev = ggml.ggml_backend_dev_get(i) as Pointer;
      if (!wanted.includes(ggml.ggml_backend_dev_type(dev) as number)) continue;
      const handle = ggml.ggml_backend_dev_init(dev, null) as Pointer;
      if (handle) return new Backend(ggml, handle, device, threads);
    }
    throw new EngineError(`no ${device} device could be initialised (${count} ggml devices found)`, {
      hint: device === "cpu" ? "reinstall node-llama-cpp (npm ci)" : "check the driver, or use device cpu",
    });
  }

  /**
   * ggml's BLAS backend from `library` (a libggml-blas.so built against this process's ggml, see
   * scripts/build-ggml-blas.sh), with `threads` BLAS threads. Put it before the CPU backend in a
   * Scheduler: it takes the matrix products it supports (f32 GEMM through OpenBLAS) and the CPU
   * backend keeps everything else.
   */
  static blas(threads: number, library: string): Backend {
    checkThreads(threads);
    const { ggml, loadBackend } = loadGgml("cpu");
    let registry = loadedBlas.get(library);
    if (registry === undefined) {
      // OpenBLAS threads spin for 2^28 cycles after each GEMM by default, fighting ggml's CPU threads
      // for the same cores between products (measured: 3.3 s vs 1.9 s per full fine-tuning step on 2
      // cores). OpenBLAS reads this when it loads, which ggml_backend_load is about to do.
      defaultNativeVariable("OPENBLAS_THREAD_TIMEOUT", "4");
      registry = loadBackend(library);
      if (!registry)
        throw new EngineError(`ggml could not load the BLAS backend ${library}`, {
          where: library,
          hint: "build it with `npm run build:blas` (needs g++ and libopenblas-dev), or leave blas off",
        });
      loadedBlas.set(library, registry);
    }
    const count = ggml.ggml_backend_dev_count() as number;
    for (let i = 0; i < count; i++) {
      const dev = ggml.ggml_backend_dev_get(i) as Pointer;
      if (ggml.ggml_backend_dev_type(dev) !== deviceTypeAccelerator || ggml.ggml_backend_dev_backend_reg(dev) !== registry) continue;
      const handle = ggml.ggml_backend_dev_init(dev, null) as Pointer;
      if (!handle) break;
      const backend = new Backend(ggml, handle, "cpu", threads);
      backend.setThreads(threads);
      return backend;
    }
    throw new EngineError(`the BLAS library ${library} registered no device that could be initialised`, { where: library });
  }

  /**
   * The BLAS backend the settings ask for (VERTICAL_BLAS), or undefined: "off", a GPU device, your
   * own ggml build (VERTICAL_GGML_DIR loads its own backends), or "auto" without a built library.
   */
  static blasFromSettings(threads: number): Backend | undefined {
    const { blas, device, ggmlDirectory } = settings();
    if (blas === "off" || device !== "cpu" || ggmlDirectory !== undefined) return undefined;
    if (blas === "auto") {
      const built = defaultBlasLibrary();
      return fs.existsSync(built) ? Backend.blas(threads, built) : undefined;
    }
    if (!fs.existsSync(blas))
      throw new EngineError(`VERTICAL_BLAS names ${blas}, which does not exist`, { where: "VERTICAL_BLAS", hint: "build it with `npm run build:blas` or set VERTICAL_BLAS=off" });
    return Backend.blas(threads, blas);
  }

  get name(): string {
    return this.ggml.ggml_backend_name(this.pointer) as string;
  }

  get isCpu(): boolean {
    const dev = this.ggml.ggml_backend_get_device(this.pointer) as Pointer;
    return this.ggml.ggml_backend_dev_type(dev) === deviceTypeCpu;
  }

  get threads(): number {
    return this.threadCount;
  }

  /** Sets the compute thread count (CPU backends; ggml threads spin, so never exceed free cores). */
  setThreads(threads: number): void {
    checkThreads(threads);
    const dev = this.ggml.ggml_backend_get_device(this.pointer) as Pointer;
    const reg = this.ggml.ggml_backend_dev_backend_reg(dev) as Pointer;
    const setter = this.ggml.ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads") as Pointer;
    if (setter) koffi.call(setter, SetThreadsProto, this.pointer, threads);
    else if (this.isCpu)
      // Without it the CPU backend would keep its default of 4 spinning threads.
      throw new EngineError(`the CPU backend ${this.name} does not expose ggml_backend_set_n_threads`);
    this.threadCount = threads;
  }

  /** Allocates every tensor of a no-alloc `context` in one buffer on this backend. */
  allocate(context: Context): BackendBuffer {
    if (!context.noAlloc) throw new EngineError("this context already holds its tensors' data; create it without allocate");
    const first = context.tensors().next();
    if (first.done) throw new EngineError("the context has no tensors to allocate");
    const handle = this.ggml.ggml_backend_alloc_ctx_tensors(context.pointer, this.pointer) as Pointer;
    if (!handle) throw new EngineError(`could not allocate the context's tensors on ${this.name} (out of memory?)`);
    return new BackendBuffer(this.ggml, handle, this);
  }

  /** Whether this backend can run the operation that produced `tensor`. */
  supports(tensor: Tensor): boolean {
    return this.ggml.ggml_backend_supports_op(this.pointer, tensor.pointer) as boolean;
  }

  protected free(handle: Pointer): void {
    this.ggml.ggml_backend_free(handle);
  }
}

export interface GraphOptions {
  /** Maximum nodes (and, separately, leaves). Defaults to 8192. */
  size?: number;
  /** Room for gradients (training graphs). Defaults to false. */
  gradients?: boolean;
}

/** A computation graph, stored in `context` (which must have graphBytes room for it). */
export class Graph {
  readonly size: number;
  readonly gradients: boolean;
  private readonly handle: Pointer;
  /** Tensors already in the graph (mirrors ggml's visited set, for overflow checks). */
  private readonly visited = new Set<bigint>();
  /** Where expandBackward made the gradient tensors. */
  private gradientContext: Context | undefined;

  constructor(
    readonly context: Context,
    options: GraphOptions = {},
  ) {
    this.size = options.size ?? 8192;
    this.gradients = options.gradients ?? false;
    if (!Number.isInteger(this.size) || this.size <= 0) throw new EngineError(`graph size must be > 0, got ${this.size}`);
    const bytes = Graph.bytesFor(this.size, this.gradients);
    if (bytes > context.freeBytes)
      throw new EngineError(`the context has ${context.freeBytes} bytes free, a graph of ${this.size} nodes needs ${bytes}`, {
        hint: "give the Context graphBytes: Graph.bytesFor(size, gradients)",
      });
    this.handle = context.ggml.ggml_new_graph_custom(context.pointer, this.size, this.gradients) as Pointer;
  }

  /** Rebuilds the visited set from the graph's own node and leaf arrays (after native expansion). */
  private syncVisited(): void {
    const graph = this.pointer;
    for (const [arrayOffset, count] of [
      [16, this.nodeCount],
      [40, this.leafCount],
    ] as const) {
      if (count === 0) continue;
      const array = BigInt(koffi.decode(graph, arrayOffset, "uint64_t") as number | bigint);
      const pointers = koffi.decode(array, "uint64_t", count) as BigUint64Array | number[];
      for (const pointer of pointers) this.visited.add(BigInt(pointer));
    }
  }

  /** Bytes a graph of `size` nodes takes in its context. */
  static bytesFor(size: number, gradients = false): number {
    return loadGgml().ggml.ggml_graph_overhead_custom(size, gradients) as number;
  }

  get pointer(): Pointer {
    this.context.checkAlive();
    return this.handle;
  }

  get nodeCount(): number {
    return this.context.ggml.ggml_graph_n_nodes(this.pointer) as number;
  }

  get leafCount(): number {
    return koffi.decode(this.pointer, 8, "int32_t") as number;
  }

  /**
   * Adds `tensor` and everything it depends on. The new nodes and leaves are counted in TypeScript
   * first (ggml aborts when a graph overflows).
   */
  expand(tensor: Tensor): this {
    const { nodes, leaves } = countNew(tensor.pointer, this.visited);
    if (this.nodeCount + nodes > this.size || this.leafCount + leaves > this.size)
      throw new EngineError(
        `the graph holds ${this.size} nodes and ${this.size} leaves; this expansion needs ${this.nodeCount + nodes} and ${this.leafCount + leaves}`,
        { hint: "create the Graph (and its context's graphBytes) with a larger size" },
      );
    this.context.ggml.ggml_build_forward_expand(this.pointer, tensor.pointer);
    markVisited(tensor.pointer, this.visited);
    return this;
  }

  /**
   * Adds the backward pass for every tensor marked as a parameter, with respect to the tensor
   * marked as loss. Gradient tensors are made in `gradientContext`.
   */
  expandBackward(gradientContext: Context = this.context): this {
    if (!this.gradients) throw new EngineError("this graph was created without gradients: pass {gradients: true}");
    // The backward pass adds up to ~3 nodes per forward node (measured: 2.2x on the llama graph
    // with LoRA); refuse graphs too small for that rather than let ggml abort half-way.
    const needed = this.nodeCount * backwardGrowth;
    if (needed > this.size)
      throw new EngineError(`a backward pass over ${this.nodeCount} nodes needs a graph of about ${needed}, this one holds ${this.size}`, {
        hint: "create the Graph with size >= 4 x the forward's nodes (and graphBytes to match)",
      });
    this.context.ggml.ggml_build_backward_expand(gradientContext.pointer, this.pointer, null);
    this.gradientContext = gradientContext;
    this.syncVisited();
    return this;
  }

  /** Zeroes gradients and sets the loss gradient to 1 (call before each backward pass). */
  resetGradients(): void {
    if (!this.gradients) throw new EngineError("this graph has no gradients");
    this.context.ggml.ggml_graph_reset(this.pointer);
  }

  /**
   * Sets the loss gradient to `value` and nothing else: the backward then yields `value` times the
   * gradients, so micro-batches weighted by their share of a step's targets need no extra pass. Unlike
   * resetGradients (ggml_graph_reset) it leaves the moments of in-graph AdamW steps alone, which
   * ggml_graph_reset zeroes. (Parameter gradients are recomputed, not accumulated, on every run.)
   */
  seedLossGradient(loss: Tensor, value: number): void {
    const gradient = this.gradient(loss);
    if (!gradient) throw new EngineError(`${loss} is not the loss of this graph (markLoss before expandBackward)`);
    gradient.write(Float32Array.of(value));
  }

  /** The gradient of `tensor` in this graph, if it has one. */
  gradient(tensor: Tensor): Tensor | undefined {
    if (!this.gradients) return undefined;
    const pointer = this.context.ggml.ggml_graph_get_grad(this.pointer, tensor.pointer) as Pointer;
    // made by expandBackward in the graph's context (or the gradient context it was given)
    return pointer ? (this.gradientContext ?? this.context).wrapForeign(pointer) : undefined;
  }

  /**
   * After expandBackward(): ggml's autodiff computes the input gradient of `W x` as
   * out_prod(W, transpose(dy)), which runs ~3x slower on the CPU than a mul_mat. For every weight W
   * given here with its transposed copy Wt (F32, BF16 for compute: bf16, or Q8_0 for a frozen Q8_0 weight; ne [out, in]),
   * such nodes become mul_mat(Wt, dy): the same values (for Q8_0, up to ggml quantising dy as its
   * forward quantises activations), computed faster. Returns how many nodes were rewritten. (Added for training.)
   */
  useTransposedWeights(transposed: ReadonlyMap<Pointer, Tensor>): number {
    if (!this.gradients) throw new EngineError("useTransposedWeights needs a graph with gradients, after expandBackward()");
    const g = this.context.ggml;
    const nodes: Pointer[] = [];
    for (let i = 0; i < this.nodeCount; i++) nodes.push(g.ggml_graph_node(this.pointer, i) as Pointer);
    const describe = (tensor: Pointer) => g.ggml_op_desc(tensor) as string;
    // The op code of MUL_MAT in this ggml build, read from a mul_mat node rather than assumed.
    const mulMat = nodes.find((node) => describe(node) === "MUL_MAT");
    if (mulMat === undefined) return 0;
    const mulMatOp = koffi.decode(mulMat, tensorLayout.op, "int32_t") as number;
    let rewritten = 0;
    for (const node of nodes) {
      if (describe(node) !== "OUT_PROD") continue;
      const [weight, transposedGradient] = sourcesOf(node);
      const weightT = weight === undefined ? undefined : transposed.get(weight);
      if (!weightT || transposedGradient === undefined || describe(transposedGradient) !== "TRANSPOSE") continue;
      const gradient = sourcesOf(transposedGradient)[0];
      if (gradient === undefined || readType(gradient) !== GgmlType.F32 || !(g.ggml_is_contiguous(gradient) as boolean)) continue;
      const [out, inputs] = weightT.shape;
      const gradientShape = readShape(gradient);
      const nodeShape = readShape(node);
      // node [in, N], Wt [out, in], dy [out, N]: 2-D products only
      if ((weightT.type !== GgmlType.F32 && weightT.type !== GgmlType.Q8_0 && weightT.type !== GgmlType.BF16) || weightT.shape[2] !== 1 || weightT.shape[3] !== 1) continue;
      if (gradientShape[0] !== out || nodeShape[0] !== inputs || nodeShape[1] !== gradientShape[1]) continue;
      if (nodeShape[2] !== 1 || nodeShape[3] !== 1 || gradientShape[2] !== 1 || gradientShape[3] !== 1) continue;
      koffi.encode(node, tensorLayout.op, "int32_t", mulMatOp);
      koffi.encode(node, tensorLayout.src, "uint64_t", weightT.pointer);
      koffi.encode(node, tensorLayout.src + 8, "uint64_t", gradient);
      rewritten++;
    }
    return rewritten;
  }

  /**
   * After expandBackward() (and useTransposedWeights, which handles the products it can without
   * copies): every remaining f32 out_prod(a [i, k, ...], b [j, k, ...]) — weight gradients, LoRA
   * and attention gradients — becomes mul_mat(cont(transpose(a)), cont(transpose(b))), the same
   * sums over k computed by ggml's GEMM instead of its row-by-row out_prod (~3-5x slower here). The
   * transposed copies are new nodes placed just before their first use and shared between products
   * of the same source (q, k and v read one normalised input). A source that already is a TRANSPOSE
   * view of a contiguous tensor needs no copy. Values equal ggml's out_prod up to summation order.
   * Returns how many nodes were rewritten. (Added for training speed.)
   *
   * `copyType` BF16 (mixed precision): the copies are rounded to bf16 as they are made (one pass,
   * half the bytes) and the product runs on ggml's bf16 GEMM (~1.7x its f32 rate here) with f32
   * accumulation, as bf16 autocast does for weight gradients; the first operand is always a bf16
   * copy, because ggml's CPU mul_mat converts only f32 second operands.
   */
  useMatMulForOutProducts(copyType: GgmlType.F32 | GgmlType.BF16 = GgmlType.F32): number {
    if (!this.gradients) throw new EngineError("useMatMulForOutProducts needs a graph with gradients, after expandBackward()");
    const g = this.context.ggml;
    const count = this.nodeCount;
    const nodes: Pointer[] = [];
    for (let i = 0; i < count; i++) nodes.push(g.ggml_graph_node(this.pointer, i) as Pointer);
    const describe = (tensor: Pointer) => g.ggml_op_desc(tensor) as string;
    const mulMat = nodes.find((node) => describe(node) === "MUL_MAT");
    if (mulMat === undefined) return 0;
    const mulMatOp = koffi.decode(mulMat, tensorLayout.op, "int32_t") as number;
    const copies = new Map<Pointer, Pointer>();
    const ordered: Pointer[] = [];
    let rewritten = 0;
    for (const node of nodes) {
      const [a, b] = describe(node) === "OUT_PROD" ? sourcesOf(node) : [];
      // 2-D products only: a batched (attention) mul_mat runs one GEMM per slice with two thread
      // barriers each, which on a loaded machine cost more than out_prod's single pass (measured).
      const flat = (tensor: Pointer) => {
        const shape = readShape(tensor);
        return shape[2] === 1 && shape[3] === 1;
      };
      if (
        a !== undefined &&
        b !== undefined &&
        readType(a) === GgmlType.F32 &&
        readType(b) === GgmlType.F32 &&
        readType(node) === GgmlType.F32 &&
        flat(a) &&
        flat(b)
      ) {
        const transposed = (source: Pointer, mustCopy: boolean): Pointer => {
          // A TRANSPOSE view of a contiguous tensor is that tensor, already laid out as needed.
          let laidOut: Pointer | undefined;
          if (describe(source) === "TRANSPOSE") {
            const inner = sourcesOf(source)[0];
            if (inner !== undefined && (g.ggml_is_contiguous(inner) as boolean)) laidOut = inner;
          }
          if (laidOut !== undefined && !mustCopy) return laidOut;
          const known = copies.get(source);
          if (known !== undefined) return known;
          this.context.reserve("ggml_cont(ggml_transpose)", 0, 2);
          const added: Pointer[] = [];
          if (laidOut === undefined) {
            laidOut = g.ggml_transpose(this.context.pointer, source) as Pointer;
            added.push(laidOut);
          }
          const copy = (
            copyType === GgmlType.F32 ? g.ggml_cont(this.context.pointer, laidOut) : g.ggml_cast(this.context.pointer, laidOut, copyType)
          ) as Pointer;
          if (!laidOut || !copy) throw new EngineError("ggml_transpose/ggml_cont/ggml_cast returned NULL");
          added.push(copy);
          // ggml computes only nodes flagged COMPUTE (set by its graph expansion, which these skip).
          for (const tensor of added) {
            const flags = koffi.decode(tensor, tensorLayout.flags, "int32_t") as number;
            koffi.encode(tensor, tensorLayout.flags, "int32_t", flags | tensorFlagCompute);
          }
          ordered.push(...added);
          copies.set(source, copy);
          return copy;
        };
        const left = transposed(a, copyType !== GgmlType.F32);
        const right = transposed(b, false);
        koffi.encode(node, tensorLayout.op, "int32_t", mulMatOp);
        koffi.encode(node, tensorLayout.src, "uint64_t", left);
        koffi.encode(node, tensorLayout.src + 8, "uint64_t", right);
        rewritten++;
      }
      ordered.push(node);
    }
    if (ordered.length > this.size)
      throw new EngineError(`rewriting out_prod needs ${ordered.length} nodes, the graph holds ${this.size}`, {
        hint: "create the Graph with a larger size",
      });
    // ggml_cgraph: int size, int n_nodes, int n_leafs, then the nodes array pointer at 16.
    const array = BigInt(koffi.decode(this.pointer, 16, "uint64_t") as number | bigint);
    koffi.encode(array, koffi.array("uint64_t", ordered.length), ordered);
    koffi.encode(this.pointer, 4, "int32_t", ordered.length);
    for (const node of ordered) this.visited.add(node);
    return rewritten;
  }

  /**
   * Mixed precision (added for training): every MUL_MAT node whose first source is a weight W given
   * here reads W's working copy instead (e.g. BF16, ~2x ggml's f32 GEMM rate on the CPU). Call it
   * after expandBackward() and the rewrites above: the backward was built against W, so W keeps its
   * gradient (weight gradients come from activations, not from W), while the forward products run
   * on the copy. The caller keeps the copies equal to W (up to rounding) after every update.
   * Returns how many nodes were redirected.
   */
  useWorkingCopies(copies: ReadonlyMap<Pointer, Tensor>): number {
    const g = this.context.ggml;
    let redirected = 0;
    for (let i = 0; i < this.nodeCount; i++) {
      const node = g.ggml_graph_node(this.pointer, i) as Pointer;
      if ((g.ggml_op_desc(node) as string) !== "MUL_MAT") continue;
      const weight = sourcesOf(node)[0];
      const copy = weight === undefined ? undefined : copies.get(weight);
      if (!copy) continue;
      const weightShape = readShape(weight!);
      if (copy.shape.some((extent, axis) => extent !== weightShape[axis])) {
        throw new EngineError(`working copy ${copy.name} has shape [${copy.shape.join(", ")}], its weight [${weightShape.join(", ")}]`);
      }
      koffi.encode(node, tensorLayout.src, "uint64_t", copy.pointer);
      redirected++;
    }
    return redirected;
  }
}

/**
 * Runs graphs over one or more backends (the last must be the CPU): it allocates the graph's
 * intermediate tensors in its own buffers and copies between backends where needed.
 */
export class Scheduler extends Owned {
  readonly backends: readonly Backend[];
  readonly graphSize: number;
  private readonly ggml: Ggml;
  private allocated: Graph | undefined;
  private readonly everAllocated = new WeakSet<Graph>();

  constructor(backends: readonly Backend[], graphSize = 8192) {
    if (backends.length === 0) throw new EngineError("a scheduler needs at least one backend");
    if (backends.length > 16) throw new EngineError(`a scheduler takes at most 16 backends, got ${backends.length}`);
    const last = backends[backends.length - 1]!;
    if (!last.isCpu) throw new EngineError(`the scheduler's last backend must be the CPU, got ${last.name}`);
    if (!Number.isInteger(graphSize) || graphSize <= 0) throw new EngineError(`graph size must be > 0, got ${graphSize}`);
    const ggml = last.ggml;
    const list = pointerArray(backends.map((backend) => backend.pointer));
    const handle = ggml.ggml_backend_sched_new(list, null, backends.length, graphSize, false, true) as Pointer;
    if (!handle) throw new EngineError("ggml_backend_sched_new failed");
    super(handle, "scheduler");
    this.ggml = ggml;
    this.backends = [...backends];
    this.graphSize = graphSize;
  }

  private checkGraph(graph: Graph): void {
    for (const backend of this.backends) if (backend.disposed) throw new DisposedError(`backend of this scheduler was disposed`);
    const total = graph.nodeCount + graph.leafCount;
    if (total > this.graphSize)
      throw new EngineError(`the graph has ${total} nodes and leaves, the scheduler was made for ${this.graphSize}`, {
        hint: "create the Scheduler with a larger graphSize",
      });
  }

  /**
   * Allocates the graph's intermediate tensors; set inputs after this and before compute(). Allocate
   * a graph once and compute it as often as needed (inputs rewritten before each compute). With
   * several backends ggml's scheduler points nodes at copies of their inputs that it frees at the
   * next allocation, so allocating a graph a second time would read freed tensors (seen on CUDA as
   * get_rows reading garbage row ids): that is refused; build the graph again instead.
   */
  allocate(graph: Graph): void {
    this.checkGraph(graph);
    if (this.backends.length > 1 && this.everAllocated.has(graph))
      throw new EngineError("this graph was allocated by a multi-backend scheduler before; build it again to allocate it", {
        hint: "keep the allocation and call compute() again, or rebuild the graph",
      });
    this.ggml.ggml_backend_sched_reset(this.pointer);
    if (!(this.ggml.ggml_backend_sched_alloc_graph(this.pointer, graph.pointer) as boolean))
      throw new EngineError("the scheduler could not allocate the graph (out of memory?)");
    this.allocated = graph;
    this.everAllocated.add(graph);
  }

  /** Whether `graph` holds this scheduler's current allocation (compute() may run it again). */
  holds(graph: Graph): boolean {
    return this.allocated === graph;
  }

  /** Runs the graph allocated by allocate(). */
  compute(graph: Graph): void {
    if (this.allocated !== graph) throw new EngineError("allocate(graph) must come before compute(graph)");
    this.checkGraph(graph);
    const status = this.ggml.ggml_backend_sched_graph_compute(this.pointer, graph.pointer) as number;
    if (status !== 0) throw new EngineError(`graph compute ${statusNames[status] ?? `failed (status ${status})`}`);
  }

  /** Number of backend splits of the last allocated graph (1 on a CPU-only run). */
  get splits(): number {
    return this.ggml.ggml_backend_sched_get_n_splits(this.pointer) as number;
  }

  /** The name of the backend that runs `node` in the last allocated graph (undefined if none was assigned). */
  backendNameOf(node: Tensor): string | undefined {
    const backend = this.ggml.ggml_backend_sched_get_tensor_backend(this.pointer, node.pointer) as Pointer;
    return backend ? (this.ggml.ggml_backend_name(backend) as string) : undefined;
  }

  /** Forgets the last allocation (its intermediate tensors become invalid). */
  reset(): void {
    this.ggml.ggml_backend_sched_reset(this.pointer);
    this.allocated = undefined;
  }

  protected free(handle: Pointer): void {
    this.ggml.ggml_backend_sched_free(handle);
  }
}
