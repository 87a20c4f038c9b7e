/**
 * A ggml context and the tensors and operations made in it. Each operation checks, in TypeScript,
 * the conditions ggml would GGML_ASSERT on (which would abort the process) and raises an
 * EngineError naming the operation and the shapes instead.
 *
 * Shapes are ggml's `ne`: ne[0] is the fastest-varying (row length). A "[4096, 7]" tensor is 7 rows
 * of 4096 values.
 */
import { DisposedError, EngineError } from "../shared/errors.js";
import { loadGgml, readShape, readStrides, readType, readBufferPointer, type Ggml, type Pointer } from "./ffi.js";
import { GgmlType, blockOf, isQuantized, rowBytes, typeName } from "./types.js";

/** The rotary embedding layouts llama-family models use. */
export enum RopeMode {
  /** Llama: rotate adjacent pairs (x0,x1), (x2,x3), … */
  Normal = 0,
  /** GPT-NeoX, Qwen2, Qwen3: rotate (x_i, x_{i+d/2}). */
  Neox = 2,
}

export interface ContextOptions {
  /**
   * How many tensor headers (tensors, views, operation results) the context can hold. Defaults to
   * 4096.
   */
  maxTensors?: number;
  /**
   * Bytes for tensor data when `allocate` is true. Defaults to 0 (tensors get their memory from a
   * backend buffer instead, see Backend.allocate).
   */
  dataBytes?: number;
  /** Allocate tensor data inside the context (host memory). Defaults to false. */
  allocate?: boolean;
  /** Extra room for graphs made in this context (see Graph). Defaults to 0. */
  graphBytes?: number;
}

export interface RopeOptions {
  /** Rotated dimensions per head (llama.cpp's n_rot). */
  dimensions: number;
  mode: RopeMode;
  /** Defaults to 10000. */
  freqBase?: number;
  /** Defaults to 1. */
  freqScale?: number;
  /** Original training context, used by YaRN only. Defaults to 0. */
  contextOriginal?: number;
}

type Shape = readonly number[];

function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

function checkDimensions(shape: Shape, what: string): void {
  if (shape.length < 1 || shape.length > 4)
    throw new EngineError(`${what}: a tensor has 1 to 4 dimensions, got ${shape.length}`);
  for (const n of shape)
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new EngineError(`${what}: dimensions must be positive integers, got ${formatShape(shape)}`);
}

/** Pads a shape to 4 dimensions with 1s. */
function full(shape: Shape): [number, number, number, number] {
  return [shape[0] ?? 1, shape[1] ?? 1, shape[2] ?? 1, shape[3] ?? 1];
}

/** ggml_can_repeat(small, big): every dimension of big is a multiple of small's. */
function canRepeat(small: Shape, big: Shape): boolean {
  const s = full(small);
  const b = full(big);
  return s.every((n, i) => b[i]! % n === 0);
}

/** CPU element-wise kernels assert that rows are not transposed; check before building the node. */
function requireRows(tensor: Tensor, what: string): void {
  if (!tensor.hasContiguousRows)
    throw new EngineError(`${what}: ${tensor} is a transposed view; use cont() first`);
}

export class Tensor {
  /** ne, padded to 4 dimensions. */
  readonly shape: readonly [number, number, number, number];
  readonly type: GgmlType;

  /** @internal Use Context methods to make tensors. */
  constructor(
    readonly context: Context,
    private readonly handle: Pointer,
  ) {
    const shape = readShape(handle);
    this.shape = [shape[0]!, shape[1]!, shape[2]!, shape[3]!];
    this.type = readType(handle);
  }

  /** The native pointer; throws DisposedError once the owning context is gone. */
  get pointer(): Pointer {
    this.context.checkAlive();
    return this.handle;
  }

  get elements(): number {
    return this.shape[0] * this.shape[1] * this.shape[2] * this.shape[3];
  }

  /** Bytes of the whole tensor (contiguous layout). */
  get bytes(): number {
    return rowBytes(this.type, this.shape[0]) * this.shape[1] * this.shape[2] * this.shape[3];
  }

  get name(): string {
    return this.context.ggml.ggml_get_name(this.pointer) as string;
  }

  setName(name: string): this {
    if (Buffer.byteLength(name) >= 64) throw new EngineError(`tensor name "${name}" is longer than ggml's 63 bytes`);
    this.context.ggml.ggml_set_name(this.pointer, name);
    return this;
  }

  /** Marks an input of a graph (the allocator never reuses its memory). */
  markInput(): this {
    this.context.ggml.ggml_set_input(this.pointer);
    return this;
  }

  /** Marks an output of a graph (its memory is not reused before the graph ends). */
  markOutput(): this {
    this.context.ggml.ggml_set_output(this.pointer);
    return this;
  }

  /** Marks a trainable parameter: ggml_build_backward_expand computes its gradient. */
  markParameter(): this {
    if (this.type !== GgmlType.F32 && this.type !== GgmlType.F16)
      throw new EngineError(`only F32/F16 tensors can be trained; ${this.name || "tensor"} is ${typeName(this.type)}`);
    this.context.ggml.ggml_set_param(this.pointer);
    return this;
  }

  /** Marks the scalar loss of a training graph. */
  markLoss(): this {
    if (this.elements !== 1 || this.type !== GgmlType.F32)
      throw new EngineError(`a loss must be one F32 value, got ${typeName(this.type)} ${formatShape(this.shape)}`);
    this.context.ggml.ggml_set_loss(this.pointer);
    return this;
  }

  /** Elements of a row are adjacent (nb[0] is one element): not a transposed view. */
  get hasContiguousRows(): boolean {
    const block = blockOf(this.type);
    return block !== undefined && readStrides(this.pointer)[0] === block.blockBytes;
  }

  get isContiguous(): boolean {
    return this.context.ggml.ggml_is_contiguous(this.pointer) as boolean;
  }

  /** True once the tensor has memory in a backend buffer (or in its context). */
  get isAllocated(): boolean {
    return readBufferPointer(this.pointer) !== 0n || !this.context.noAlloc;
  }

  private checkTransfer(byteLength: number, byteOffset: number, what: string): void {
    if (!this.isAllocated)
      throw new EngineError(`${what} ${this.name || "tensor"}: it has no memory yet`, {
        hint: "allocate the context's tensors on a backend (Backend.allocate) or allocate the graph first",
      });
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset + byteLength > this.bytes)
      throw new EngineError(
        `${what} ${this.name || "tensor"}: bytes ${byteOffset}..${byteOffset + byteLength} do not fit its ${this.bytes} bytes (${typeName(this.type)} ${formatShape(this.shape)})`,
      );
  }

  /** Copies `data` into the tensor's memory (any backend) at `byteOffset`. */
  write(data: ArrayBufferView, byteOffset = 0): void {
    this.checkTransfer(data.byteLength, byteOffset, "write to");
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.context.ggml.ggml_backend_tensor_set(this.pointer, bytes, byteOffset, data.byteLength);
  }

  /** Reads `byteLength` raw bytes (all of them by default). */
  readBytes(byteOffset = 0, byteLength = this.bytes - byteOffset): Uint8Array {
    this.checkTransfer(byteLength, byteOffset, "read from");
    const out = new Uint8Array(byteLength);
    this.context.ggml.ggml_backend_tensor_get(this.pointer, out, byteOffset, byteLength);
    return out;
  }

  /** The values of an F32 tensor. */
  readFloats(): Float32Array {
    if (this.type !== GgmlType.F32) throw new EngineError(`readFloats needs an F32 tensor, got ${typeName(this.type)}`);
    const bytes = this.readBytes();
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }

  /** Fills the tensor's memory with one byte value (0 zeroes any float type). */
  fill(byte = 0): void {
    this.checkTransfer(this.bytes, 0, "fill");
    this.context.ggml.ggml_backend_tensor_memset(this.pointer, byte, 0, this.bytes);
  }

  toString(): string {
    return `${this.name || "tensor"} ${typeName(this.type)} ${formatShape(this.shape)}`;
  }
}

/**
 * Owns a ggml_context: the headers of every tensor made in it (and their data when `allocate`).
 * Operations build graph nodes; nothing is computed until a Backend or Scheduler runs a Graph.
 */
export class Context implements Disposable {
  readonly ggml: Ggml;
  readonly noAlloc: boolean;
  private handle: Pointer | undefined;
  private readonly tensorOverhead: number;
  private readonly capacity: number;

  constructor(options: ContextOptions = {}) {
    this.ggml = loadGgml().ggml;
    const maxTensors = options.maxTensors ?? 4096;
    const dataBytes = options.dataBytes ?? 0;
    this.noAlloc = !(options.allocate ?? false);
    if (!Number.isSafeInteger(maxTensors) || maxTensors <= 0)
      throw new EngineError(`maxTensors must be a positive integer, got ${maxTensors}`);
    if (!this.noAlloc && (!Number.isSafeInteger(dataBytes) || dataBytes <= 0))
      throw new EngineError(`a context that allocates needs dataBytes > 0, got ${dataBytes}`);
    this.tensorOverhead = this.ggml.ggml_tensor_overhead() as number;
    // Every tensor's data is padded to 32 bytes in an allocating context, so leave room for that.
    this.capacity = maxTensors * this.tensorOverhead + (this.noAlloc ? 0 : dataBytes + maxTensors * 64) + (options.graphBytes ?? 0);
    const handle = this.ggml.ggml_init({ mem_size: this.capacity, mem_buffer: null, no_alloc: this.noAlloc }) as Pointer;
    if (!handle) throw new EngineError(`ggml_init failed for a ${this.capacity}-byte context`);
    this.handle = handle;
  }

  get pointer(): Pointer {
    this.checkAlive();
    return this.handle!;
  }

  get disposed(): boolean {
    return this.handle === undefined;
  }

  /** @internal */
  checkAlive(): void {
    if (this.handle === undefined) throw new DisposedError("this ggml context was disposed");
  }

  /** Bytes still free in the context's pool. */
  get freeBytes(): number {
    return this.capacity - (this.ggml.ggml_used_mem(this.pointer) as number);
  }

  /** Throws unless one more tensor header (plus `dataBytes` when allocating) fits. */
  reserve(what: string, dataBytes = 0, headers = 1): void {
    const needed = headers * this.tensorOverhead + (this.noAlloc ? 0 : dataBytes + 64);
    if (needed > this.freeBytes)
      throw new EngineError(`${what}: the ggml context is full (${this.freeBytes} bytes free, ${needed} needed)`, {
        hint: "create the Context with a larger maxTensors / dataBytes",
      });
  }

  private created = 0;

  private wrap(pointer: Pointer, what: string): Tensor {
    if (!pointer) throw new EngineError(`${what} returned NULL`);
    this.created++;
    return new Tensor(this, pointer);
  }

  /** @internal Wraps a tensor ggml made in this context (e.g. a gradient). */
  wrapForeign(pointer: Pointer): Tensor {
    return new Tensor(this, pointer);
  }

  /** @internal Tensors made through this wrapper so far (bounds a graph's growth). */
  tensorCountEstimate(): number {
    return this.created;
  }

  private own(tensor: Tensor, what: string): void {
    tensor.context.checkAlive();
    if (tensor.context !== this && !tensor.isAllocated)
      throw new EngineError(`${what}: ${tensor} belongs to another context and has no memory`);
  }

  /** A new tensor of `type` and `shape` (1 to 4 dimensions). */
  tensor(type: GgmlType, shape: Shape, name?: string): Tensor {
    checkDimensions(shape, "tensor");
    if (!blockOf(type)) throw new EngineError(`unknown ggml type ${type}`);
    let bytes: number;
    try {
      bytes = rowBytes(type, shape[0]!) * shape.slice(1).reduce((a, b) => a * b, 1);
    } catch (error) {
      throw new EngineError(`tensor ${name ?? ""} ${formatShape(shape)}: ${(error as Error).message}`);
    }
    this.reserve(`tensor ${name ?? ""}`, bytes);
    const g = this.ggml;
    const [n0, n1, n2, n3] = full(shape);
    const pointer =
      shape.length === 1
        ? g.ggml_new_tensor_1d(this.pointer, type, n0)
        : shape.length === 2
          ? g.ggml_new_tensor_2d(this.pointer, type, n0, n1)
          : shape.length === 3
            ? g.ggml_new_tensor_3d(this.pointer, type, n0, n1, n2)
            : g.ggml_new_tensor_4d(this.pointer, type, n0, n1, n2, n3);
    const tensor = this.wrap(pointer as Pointer, "ggml_new_tensor");
    if (name) tensor.setName(name);
    return tensor;
  }

  /** Tensors of this context in creation order. */
  *tensors(): Generator<Tensor> {
    let pointer = this.ggml.ggml_get_first_tensor(this.pointer) as Pointer;
    while (pointer) {
      yield new Tensor(this, pointer);
      pointer = this.ggml.ggml_get_next_tensor(this.pointer, pointer) as Pointer;
    }
  }

  /** The tensor named `name`, or undefined. */
  find(name: string): Tensor | undefined {
    const pointer = this.ggml.ggml_get_tensor(this.pointer, name) as Pointer;
    return pointer ? new Tensor(this, pointer) : undefined;
  }

  // ---- element-wise -------------------------------------------------------------------------

  private binary(name: "ggml_add" | "ggml_mul" | "ggml_div", a: Tensor, b: Tensor): Tensor {
    this.own(a, name);
    this.own(b, name);
    if (!canRepeat(b.shape, a.shape))
      throw new EngineError(`${name}: ${formatShape(b.shape)} does not broadcast onto ${formatShape(a.shape)}`);
    requireRows(a, name);
    if (b.type !== GgmlType.F32 && b.type !== a.type)
      throw new EngineError(`${name}: cannot combine ${typeName(a.type)} with ${typeName(b.type)}`);
    this.reserve(name);
    return this.wrap(this.ggml[name](this.pointer, a.pointer, b.pointer) as Pointer, name);
  }

  /** a + b, b broadcast over a. */
  add(a: Tensor, b: Tensor): Tensor {
    return this.binary("ggml_add", a, b);
  }

  /** a * b element-wise, b broadcast over a. */
  mul(a: Tensor, b: Tensor): Tensor {
    return this.binary("ggml_mul", a, b);
  }

  /** a / b element-wise, b broadcast over a. */
  div(a: Tensor, b: Tensor): Tensor {
    return this.binary("ggml_div", a, b);
  }

  /** a² element-wise. */
  sqr(a: Tensor): Tensor {
    this.own(a, "ggml_sqr");
    this.reserve("ggml_sqr");
    return this.wrap(this.ggml.ggml_sqr(this.pointer, a.pointer) as Pointer, "ggml_sqr");
  }

  /** √a element-wise. */
  sqrt(a: Tensor): Tensor {
    this.own(a, "ggml_sqrt");
    this.reserve("ggml_sqrt");
    return this.wrap(this.ggml.ggml_sqrt(this.pointer, a.pointer) as Pointer, "ggml_sqrt");
  }

  /** a limited to [min, max] element-wise. */
  clamp(a: Tensor, min: number, max: number): Tensor {
    this.own(a, "ggml_clamp");
    if (!(min <= max)) throw new EngineError(`clamp: min ${min} must not exceed max ${max}`);
    this.reserve("ggml_clamp");
    return this.wrap(this.ggml.ggml_clamp(this.pointer, a.pointer, min, max) as Pointer, "ggml_clamp");
  }

  /** a * s. */
  scale(a: Tensor, s: number): Tensor {
    this.own(a, "ggml_scale");
    requireRows(a, "ggml_scale");
    this.reserve("ggml_scale");
    return this.wrap(this.ggml.ggml_scale(this.pointer, a.pointer, s) as Pointer, "ggml_scale");
  }

  silu(a: Tensor): Tensor {
    this.own(a, "ggml_silu");
    requireRows(a, "ggml_silu");
    this.reserve("ggml_silu");
    return this.wrap(this.ggml.ggml_silu(this.pointer, a.pointer) as Pointer, "ggml_silu");
  }

  /** silu(gate) * up, fused. */
  swiglu(gate: Tensor, up: Tensor): Tensor {
    this.own(gate, "ggml_swiglu_split");
    this.own(up, "ggml_swiglu_split");
    if (gate.shape.some((n, i) => n !== up.shape[i]) || gate.type !== up.type)
      throw new EngineError(`swiglu: gate ${gate} and up ${up} differ in shape or type`);
    if (!gate.isContiguous || !up.isContiguous) throw new EngineError(`swiglu: gate and up must be contiguous; use cont() first`);
    this.reserve("ggml_swiglu_split");
    return this.wrap(this.ggml.ggml_swiglu_split(this.pointer, gate.pointer, up.pointer) as Pointer, "ggml_swiglu_split");
  }

  /** x / sqrt(mean(x^2) + eps) along ne[0]. */
  rmsNorm(a: Tensor, eps: number): Tensor {
    this.own(a, "ggml_rms_norm");
    if (!(eps >= 0)) throw new EngineError(`rms_norm: eps must be >= 0, got ${eps}`);
    if (a.type !== GgmlType.F32) throw new EngineError(`rms_norm: ${a} must be F32`);
    requireRows(a, "ggml_rms_norm");
    this.reserve("ggml_rms_norm");
    return this.wrap(this.ggml.ggml_rms_norm(this.pointer, a.pointer, eps) as Pointer, "ggml_rms_norm");
  }

  // ---- products -----------------------------------------------------------------------------

  /**
   * Matrix product with ggml's convention: a [K, M, ...] and b [K, N, ...] give [M, N, ...]
   * (a is the weight, one row per output). b's dims 2 and 3 must be multiples of a's (broadcast,
   * which is how grouped-query attention shares K/V heads).
   */
  mulMat(a: Tensor, b: Tensor): Tensor {
    this.own(a, "ggml_mul_mat");
    this.own(b, "ggml_mul_mat");
    const [a0, , a2, a3] = a.shape;
    const [b0, , b2, b3] = b.shape;
    if (a0 !== b0 || b2 % a2 !== 0 || b3 % a3 !== 0)
      throw new EngineError(`mul_mat: cannot multiply ${a} by ${b} (ne[0] must match, b's ne[2..3] multiples of a's)`);
    if (b.type !== GgmlType.F32)
      throw new EngineError(`mul_mat: the right operand must be F32, got ${b}`);
    this.reserve("ggml_mul_mat");
    return this.wrap(this.ggml.ggml_mul_mat(this.pointer, a.pointer, b.pointer) as Pointer, "ggml_mul_mat");
  }

  /** Rows of `table` [E, R] picked by `ids` (I32 [N] or [N, B]) -> [E, N(, B)]. */
  getRows(table: Tensor, ids: Tensor): Tensor {
    this.own(table, "ggml_get_rows");
    this.own(ids, "ggml_get_rows");
    if (ids.type !== GgmlType.I32) throw new EngineError(`get_rows: ids must be I32, got ${ids}`);
    if (table.shape[2] !== ids.shape[1] || table.shape[3] !== ids.shape[2] || ids.shape[3] !== 1)
      throw new EngineError(`get_rows: ids ${formatShape(ids.shape)} do not index table ${formatShape(table.shape)}`);
    this.reserve("ggml_get_rows");
    return this.wrap(this.ggml.ggml_get_rows(this.pointer, table.pointer, ids.pointer) as Pointer, "ggml_get_rows");
  }

  // ---- layout -------------------------------------------------------------------------------

  /** The same data seen with a new shape; the tensor must be contiguous. */
  reshape(a: Tensor, shape: Shape): Tensor {
    this.own(a, "ggml_reshape");
    checkDimensions(shape, "reshape");
    if (shape.length < 2) throw new EngineError("reshape: give at least 2 dimensions");
    const elements = shape.reduce((x, y) => x * y, 1);
    if (elements !== a.elements)
      throw new EngineError(`reshape: ${a} has ${a.elements} values, ${formatShape(shape)} needs ${elements}`);
    if (!a.isContiguous) throw new EngineError(`reshape: ${a} is not contiguous; use cont() first`);
    if (isQuantized(a.type) && shape[0] !== a.shape[0])
      throw new EngineError(`reshape: a quantised tensor keeps its row length`);
    this.reserve("ggml_reshape");
    const [n0, n1, n2, n3] = full(shape);
    const g = this.ggml;
    const pointer =
      shape.length === 2
        ? g.ggml_reshape_2d(this.pointer, a.pointer, n0, n1)
        : shape.length === 3
          ? g.ggml_reshape_3d(this.pointer, a.pointer, n0, n1, n2)
          : g.ggml_reshape_4d(this.pointer, a.pointer, n0, n1, n2, n3);
    return this.wrap(pointer as Pointer, "ggml_reshape");
  }

  /** Moves source dimension i to position axes[i] (ggml_permute's convention). */
  permute(a: Tensor, axes: readonly [number, number, number, number]): Tensor {
    this.own(a, "ggml_permute");
    if ([...axes].sort().join() !== "0,1,2,3") throw new EngineError(`permute: axes must be 0..3 once each, got ${axes}`);
    this.reserve("ggml_permute");
    return this.wrap(this.ggml.ggml_permute(this.pointer, a.pointer, ...axes) as Pointer, "ggml_permute");
  }

  transpose(a: Tensor): Tensor {
    this.own(a, "ggml_transpose");
    this.reserve("ggml_transpose");
    return this.wrap(this.ggml.ggml_transpose(this.pointer, a.pointer) as Pointer, "ggml_transpose");
  }

  /**
   * Writes `source` (any layout, e.g. a transpose view) into `destination`, converting to its type
   * (F32 -> BF16 rounds to nearest even); the result is a view of `destination` to expand into a graph.
   */
  copy(source: Tensor, destination: Tensor): Tensor {
    this.own(source, "ggml_cpy");
    this.own(destination, "ggml_cpy");
    if (source.elements !== destination.elements)
      throw new EngineError(`cpy: ${source} and ${destination} hold different numbers of values`);
    if (isQuantized(destination.type) || isQuantized(source.type))
      throw new EngineError(`cpy: only unquantised types are copied here, got ${source} -> ${destination}`);
    this.reserve("ggml_cpy");
    return this.wrap(this.ggml.ggml_cpy(this.pointer, source.pointer, destination.pointer) as Pointer, "ggml_cpy");
  }

  /** A contiguous copy (after permute/transpose). */
  cont(a: Tensor): Tensor {
    this.own(a, "ggml_cont");
    this.reserve("ggml_cont");
    return this.wrap(this.ggml.ggml_cont(this.pointer, a.pointer) as Pointer, "ggml_cont");
  }

  /** A 2-D view [ne0, ne1] of `a` with row stride `rowStride` bytes, starting `offset` bytes in. */
  view2d(a: Tensor, ne0: number, ne1: number, rowStride: number, offset: number): Tensor {
    this.own(a, "ggml_view_2d");
    checkDimensions([ne0, ne1], "view_2d");
    const last = offset + (ne1 - 1) * rowStride + rowBytes(a.type, ne0);
    if (offset < 0 || last > a.bytes) throw new EngineError(`view_2d: the view ends at byte ${last}, beyond ${a}`);
    this.reserve("ggml_view_2d");
    return this.wrap(this.ggml.ggml_view_2d(this.pointer, a.pointer, ne0, ne1, rowStride, offset) as Pointer, "ggml_view_2d");
  }

  /** a and b joined along `dimension`; all other dimensions must match. */
  concat(a: Tensor, b: Tensor, dimension: number): Tensor {
    this.own(a, "ggml_concat");
    this.own(b, "ggml_concat");
    if (!Number.isInteger(dimension) || dimension < 0 || dimension > 3)
      throw new EngineError(`concat: dimension must be 0..3, got ${dimension}`);
    if (a.type !== b.type || a.shape.some((n, i) => i !== dimension && n !== b.shape[i]))
      throw new EngineError(`concat: ${a} and ${b} differ outside dimension ${dimension}`);
    this.reserve("ggml_concat");
    return this.wrap(this.ggml.ggml_concat(this.pointer, a.pointer, b.pointer, dimension) as Pointer, "ggml_concat");
  }

  /**
   * a + b where b is added into the part of a that starts at row 0 of every dim-2 slice: b
   * [ne0, n1 <= a.ne1, a.ne2, a.ne3]. Used to overwrite prompt rows; differentiable in both.
   */
  accumulateLeading(a: Tensor, b: Tensor): Tensor {
    this.own(a, "ggml_acc");
    this.own(b, "ggml_acc");
    if (a.type !== GgmlType.F32 || b.type !== GgmlType.F32 || !a.isContiguous || !b.isContiguous)
      throw new EngineError(`acc: ${a} and ${b} must be contiguous F32`);
    const [a0, a1, a2, a3] = a.shape;
    const [b0, b1, b2, b3] = b.shape;
    if (b0 !== a0 || b1 > a1 || b2 !== a2 || b3 !== a3)
      throw new EngineError(`acc: ${b} does not fit the leading rows of ${a}`);
    this.reserve("ggml_acc");
    const nb1 = a0 * 4;
    const pointer = this.ggml.ggml_acc(this.pointer, a.pointer, b.pointer, nb1, nb1 * a1, nb1 * a1 * a2, 0);
    return this.wrap(pointer as Pointer, "ggml_acc");
  }

  /** `a` tiled to `shape` (each dimension a multiple of a's). */
  repeat(a: Tensor, shape: Shape): Tensor {
    this.own(a, "ggml_repeat_4d");
    checkDimensions(shape, "repeat");
    if (!canRepeat(a.shape, shape)) throw new EngineError(`repeat: ${a} does not tile ${formatShape(shape)}`);
    this.reserve("ggml_repeat_4d");
    return this.wrap(this.ggml.ggml_repeat_4d(this.pointer, a.pointer, ...full(shape)) as Pointer, "ggml_repeat_4d");
  }

  // ---- attention ----------------------------------------------------------------------------

  /** Sets a[i, j] = -inf where i > j + nPast (future positions), per matrix. */
  diagMaskInf(a: Tensor, nPast = 0): Tensor {
    this.own(a, "ggml_diag_mask_inf");
    this.reserve("ggml_diag_mask_inf");
    return this.wrap(this.ggml.ggml_diag_mask_inf(this.pointer, a.pointer, nPast) as Pointer, "ggml_diag_mask_inf");
  }

  /** softmax(a * scale + mask) along ne[0]; `mask` (F32/F16) broadcast over dims 2 and 3. */
  softMax(a: Tensor, scale = 1, mask?: Tensor): Tensor {
    this.own(a, "ggml_soft_max_ext");
    if (!a.isContiguous) throw new EngineError(`soft_max: ${a} must be contiguous`);
    if (mask) {
      this.own(mask, "ggml_soft_max_ext");
      if (mask.type !== GgmlType.F32 && mask.type !== GgmlType.F16) throw new EngineError(`soft_max: mask must be F32/F16`);
      const [m0, m1, m2, m3] = mask.shape;
      if (m0 !== a.shape[0] || m1 < a.shape[1] || a.shape[2] % m2 !== 0 || a.shape[3] % m3 !== 0 || !mask.isContiguous)
        throw new EngineError(`soft_max: mask ${mask} does not fit scores ${a}`);
    }
    this.reserve("ggml_soft_max_ext");
    return this.wrap(
      this.ggml.ggml_soft_max_ext(this.pointer, a.pointer, mask?.pointer ?? null, scale, 0) as Pointer,
      "ggml_soft_max_ext",
    );
  }

  /**
   * Rotary position embedding of `a` [headDim, heads, tokens, 1] with one I32 position per token.
   */
  rope(a: Tensor, positions: Tensor, options: RopeOptions): Tensor {
    this.own(a, "ggml_rope_ext");
    this.own(positions, "ggml_rope_ext");
    if (positions.type !== GgmlType.I32 || positions.shape[1] !== 1 || positions.shape[2] !== 1)
      throw new EngineError(`rope: positions must be an I32 vector, got ${positions}`);
    if (positions.shape[0] !== a.shape[2])
      throw new EngineError(`rope: ${positions.shape[0]} positions for ${a.shape[2]} tokens in ${a}`);
    const { dimensions, mode } = options;
    if (!Number.isInteger(dimensions) || dimensions <= 0 || dimensions % 2 !== 0 || dimensions > a.shape[0])
      throw new EngineError(`rope: rotated dimensions must be even and <= ${a.shape[0]}, got ${dimensions}`);
    this.reserve("ggml_rope_ext");
    const pointer = this.ggml.ggml_rope_ext(
      this.pointer,
      a.pointer,
      positions.pointer,
      null,
      dimensions,
      mode,
      options.contextOriginal ?? 0,
      options.freqBase ?? 10000,
      options.freqScale ?? 1,
      0, // ext_factor: no YaRN
      1, // attn_factor
      32, // beta_fast (unused without YaRN)
      1, // beta_slow
    );
    return this.wrap(pointer as Pointer, "ggml_rope_ext");
  }

  // ---- training -----------------------------------------------------------------------------

  /** Sum of all values -> [1]. */
  sum(a: Tensor): Tensor {
    this.own(a, "ggml_sum");
    this.reserve("ggml_sum");
    return this.wrap(this.ggml.ggml_sum(this.pointer, a.pointer) as Pointer, "ggml_sum");
  }

  /**
   * Mean cross-entropy between softmax(logits) and `labels` (each row a probability
   * distribution; rows that do not sum to 1 give wrong gradients, see ENGINE-NOTES).
   */
  crossEntropyLoss(logits: Tensor, labels: Tensor): Tensor {
    this.own(logits, "ggml_cross_entropy_loss");
    this.own(labels, "ggml_cross_entropy_loss");
    if (logits.type !== GgmlType.F32 || labels.type !== GgmlType.F32 || logits.shape.some((n, i) => n !== labels.shape[i]))
      throw new EngineError(`cross_entropy_loss: logits ${logits} and labels ${labels} must be F32 of one shape`);
    this.reserve("ggml_cross_entropy_loss");
    return this.wrap(
      this.ggml.ggml_cross_entropy_loss(this.pointer, logits.pointer, labels.pointer) as Pointer,
      "ggml_cross_entropy_loss",
    );
  }

  /**
   * One AdamW step on `parameter` in place: `gradient`, moments `m` and `v` of the same shape, and
   * `hyper` = F32 [7]: alpha, beta1, beta2, eps, weight decay, beta1^t correction, beta2^t correction
   * (ggml's order; see ggml_opt_step_adamw).
   */
  adamwStep(parameter: Tensor, gradient: Tensor, m: Tensor, v: Tensor, hyper: Tensor): Tensor {
    for (const t of [parameter, gradient, m, v, hyper]) this.own(t, "ggml_opt_step_adamw");
    const same = (t: Tensor) => t.type === GgmlType.F32 && t.shape.every((n, i) => n === parameter.shape[i]);
    if (parameter.type !== GgmlType.F32 || !same(gradient) || !same(m) || !same(v))
      throw new EngineError(`adamw: parameter ${parameter}, gradient ${gradient}, m ${m}, v ${v} must be F32 of one shape`);
    if (hyper.type !== GgmlType.F32 || hyper.elements !== 7) throw new EngineError(`adamw: hyper must be F32 [7], got ${hyper}`);
    this.reserve("ggml_opt_step_adamw");
    return this.wrap(
      this.ggml.ggml_opt_step_adamw(this.pointer, parameter.pointer, gradient.pointer, m.pointer, v.pointer, hyper.pointer) as Pointer,
      "ggml_opt_step_adamw",
    );
  }

  dispose(): void {
    if (this.handle === undefined) return;
    this.ggml.ggml_free(this.handle);
    this.handle = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
