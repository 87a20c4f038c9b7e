/**
 * Every raw ggml declaration Vertical uses, in one place. Nothing outside src/engine/ may import
 * this file or koffi: the typed wrappers (Context, Tensor, Graph, Backend, Scheduler) validate
 * shapes, types and sizes before they call down here, because a GGML_ASSERT aborts the process.
 *
 * Pointers come back from koffi as bigint; NULL is 0n on return and `null` on the way in.
 * Signatures follow ggml/include/{ggml,ggml-alloc,ggml-backend,ggml-cpu}.h of the llama.cpp release
 * that node-llama-cpp 3.21.1 ships (v0.4.0 binaries).
 */
import koffi, { type KoffiFunc, type LibraryHandle, type TypeObject } from "koffi";
import { settings } from "../config.js";
import { EngineError } from "../shared/errors.js";
import fs from "node:fs";
import path from "node:path";
import { cpuVariantLibrary, cpuVariantNames, resolveLibraries, type Device, type GgmlLibraries } from "./discovery.js";

/** A native pointer as koffi returns it. */
export type Pointer = bigint;

export const InitParams = koffi.struct("ggml_init_params", {
  mem_size: "size_t",
  mem_buffer: "void *",
  no_alloc: "bool",
});

/** Offsets into `struct ggml_tensor` (336 bytes in this build); checked at load by checkTensorLayout. */
export const tensorLayout = { type: 0, buffer: 8, ne: 16, nb: 48, op: 80, flags: 148, src: 152, data: 248, name: 256 } as const;

function declare(lib: LibraryHandle) {
  const f = (signature: string) => lib.func(signature);
  return {
    // context and tensors
    ggml_init: f("void * ggml_init(ggml_init_params params)"),
    ggml_free: f("void ggml_free(void * ctx)"),
    ggml_tensor_overhead: f("size_t ggml_tensor_overhead()"),
    ggml_used_mem: f("size_t ggml_used_mem(void * ctx)"),
    ggml_get_mem_size: f("size_t ggml_get_mem_size(void * ctx)"),
    ggml_get_no_alloc: f("bool ggml_get_no_alloc(void * ctx)"),
    ggml_graph_overhead_custom: f("size_t ggml_graph_overhead_custom(size_t size, bool grads)"),
    ggml_new_tensor_1d: f("void * ggml_new_tensor_1d(void * ctx, int type, int64_t ne0)"),
    ggml_new_tensor_2d: f("void * ggml_new_tensor_2d(void * ctx, int type, int64_t ne0, int64_t ne1)"),
    ggml_new_tensor_3d: f("void * ggml_new_tensor_3d(void * ctx, int type, int64_t ne0, int64_t ne1, int64_t ne2)"),
    ggml_new_tensor_4d: f(
      "void * ggml_new_tensor_4d(void * ctx, int type, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3)",
    ),
    ggml_dup_tensor: f("void * ggml_dup_tensor(void * ctx, void * src)"),
    ggml_set_name: f("void * ggml_set_name(void * tensor, const char * name)"),
    ggml_get_name: f("const char * ggml_get_name(void * tensor)"),
    ggml_get_tensor: f("void * ggml_get_tensor(void * ctx, const char * name)"),
    ggml_get_first_tensor: f("void * ggml_get_first_tensor(void * ctx)"),
    ggml_get_next_tensor: f("void * ggml_get_next_tensor(void * ctx, void * tensor)"),
    ggml_set_input: f("void ggml_set_input(void * tensor)"),
    ggml_set_output: f("void ggml_set_output(void * tensor)"),
    ggml_set_param: f("void ggml_set_param(void * tensor)"),
    ggml_set_loss: f("void ggml_set_loss(void * tensor)"),
    ggml_nelements: f("int64_t ggml_nelements(void * tensor)"),
    ggml_nbytes: f("size_t ggml_nbytes(void * tensor)"),
    ggml_is_contiguous: f("bool ggml_is_contiguous(void * tensor)"),
    ggml_blck_size: f("int64_t ggml_blck_size(int type)"),
    ggml_type_size: f("size_t ggml_type_size(int type)"),
    ggml_row_size: f("size_t ggml_row_size(int type, int64_t ne)"),
    ggml_type_name: f("const char * ggml_type_name(int type)"),
    ggml_is_quantized: f("bool ggml_is_quantized(int type)"),
    ggml_quantize_requires_imatrix: f("bool ggml_quantize_requires_imatrix(int type)"),
    ggml_quantize_chunk: f(
      "size_t ggml_quantize_chunk(int type, const float * src, void * dst, int64_t start, int64_t nrows, int64_t n_per_row, const float * imatrix)",
    ),
    ggml_fp16_to_fp32_row: f("void ggml_fp16_to_fp32_row(const uint16_t * x, float * y, int64_t n)"),
    ggml_fp32_to_fp16_row: f("void ggml_fp32_to_fp16_row(const float * x, uint16_t * y, int64_t n)"),
    ggml_fp32_to_bf16_row: f("void ggml_fp32_to_bf16_row(const float * x, uint16_t * y, int64_t n)"),

    // operations (forward)
    ggml_add: f("void * ggml_add(void * ctx, void * a, void * b)"),
    ggml_mul: f("void * ggml_mul(void * ctx, void * a, void * b)"),
    ggml_scale: f("void * ggml_scale(void * ctx, void * a, float s)"),
    ggml_mul_mat: f("void * ggml_mul_mat(void * ctx, void * a, void * b)"),
    ggml_get_rows: f("void * ggml_get_rows(void * ctx, void * a, void * b)"),
    ggml_rms_norm: f("void * ggml_rms_norm(void * ctx, void * a, float eps)"),
    ggml_silu: f("void * ggml_silu(void * ctx, void * a)"),
    ggml_swiglu_split: f("void * ggml_swiglu_split(void * ctx, void * a, void * b)"),
    ggml_reshape_2d: f("void * ggml_reshape_2d(void * ctx, void * a, int64_t ne0, int64_t ne1)"),
    ggml_reshape_3d: f("void * ggml_reshape_3d(void * ctx, void * a, int64_t ne0, int64_t ne1, int64_t ne2)"),
    ggml_reshape_4d: f(
      "void * ggml_reshape_4d(void * ctx, void * a, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3)",
    ),
    ggml_view_2d: f("void * ggml_view_2d(void * ctx, void * a, int64_t ne0, int64_t ne1, size_t nb1, size_t offset)"),
    ggml_permute: f("void * ggml_permute(void * ctx, void * a, int axis0, int axis1, int axis2, int axis3)"),
    ggml_transpose: f("void * ggml_transpose(void * ctx, void * a)"),
    ggml_cont: f("void * ggml_cont(void * ctx, void * a)"),
    ggml_cast: f("void * ggml_cast(void * ctx, void * a, int type)"),
    ggml_cpy: f("void * ggml_cpy(void * ctx, void * a, void * b)"),
    ggml_acc: f("void * ggml_acc(void * ctx, void * a, void * b, size_t nb1, size_t nb2, size_t nb3, size_t offset)"),
    ggml_concat: f("void * ggml_concat(void * ctx, void * a, void * b, int dim)"),
    ggml_repeat_4d: f(
      "void * ggml_repeat_4d(void * ctx, void * a, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3)",
    ),
    ggml_diag_mask_inf: f("void * ggml_diag_mask_inf(void * ctx, void * a, int n_past)"),
    ggml_soft_max_ext: f("void * ggml_soft_max_ext(void * ctx, void * a, void * mask, float scale, float max_bias)"),
    ggml_rope_ext: f(
      "void * ggml_rope_ext(void * ctx, void * a, void * b, void * c, int n_dims, int mode, int n_ctx_orig, float freq_base, float freq_scale, float ext_factor, float attn_factor, float beta_fast, float beta_slow)",
    ),
    ggml_cross_entropy_loss: f("void * ggml_cross_entropy_loss(void * ctx, void * a, void * b)"),
    ggml_sum: f("void * ggml_sum(void * ctx, void * a)"),
    ggml_sqr: f("void * ggml_sqr(void * ctx, void * a)"),
    ggml_sqrt: f("void * ggml_sqrt(void * ctx, void * a)"),
    ggml_div: f("void * ggml_div(void * ctx, void * a, void * b)"),
    ggml_clamp: f("void * ggml_clamp(void * ctx, void * a, float min, float max)"),
    ggml_opt_step_adamw: f(
      "void * ggml_opt_step_adamw(void * ctx, void * a, void * grad, void * m, void * v, void * adamw_params)",
    ),

    // graphs
    ggml_new_graph_custom: f("void * ggml_new_graph_custom(void * ctx, size_t size, bool grads)"),
    ggml_build_forward_expand: f("void ggml_build_forward_expand(void * graph, void * tensor)"),
    ggml_build_backward_expand: f("void ggml_build_backward_expand(void * ctx, void * graph, void * grad_accs)"),
    ggml_graph_reset: f("void ggml_graph_reset(void * graph)"),
    ggml_graph_n_nodes: f("int ggml_graph_n_nodes(void * graph)"),
    ggml_graph_node: f("void * ggml_graph_node(void * graph, int i)"),
    ggml_op_desc: f("const char * ggml_op_desc(void * t)"),
    ggml_graph_size: f("int ggml_graph_size(void * graph)"),
    ggml_graph_get_grad: f("void * ggml_graph_get_grad(void * graph, void * node)"),
    ggml_graph_get_grad_acc: f("void * ggml_graph_get_grad_acc(void * graph, void * node)"),

    // backend buffers and tensors in them
    ggml_backend_alloc_ctx_tensors: f("void * ggml_backend_alloc_ctx_tensors(void * ctx, void * backend)"),
    ggml_backend_buffer_free: f("void ggml_backend_buffer_free(void * buffer)"),
    ggml_backend_buffer_get_size: f("size_t ggml_backend_buffer_get_size(void * buffer)"),
    ggml_backend_buffer_clear: f("void ggml_backend_buffer_clear(void * buffer, uint8_t value)"),
    ggml_backend_buffer_set_usage: f("void ggml_backend_buffer_set_usage(void * buffer, int usage)"),
    ggml_backend_tensor_set: f("void ggml_backend_tensor_set(void * tensor, const void * data, size_t offset, size_t size)"),
    ggml_backend_tensor_get: f("void ggml_backend_tensor_get(void * tensor, void * data, size_t offset, size_t size)"),
    ggml_backend_tensor_memset: f("void ggml_backend_tensor_memset(void * tensor, uint8_t value, size_t offset, size_t size)"),

    // backends
    ggml_backend_name: f("const char * ggml_backend_name(void * backend)"),
    ggml_backend_free: f("void ggml_backend_free(void * backend)"),
    ggml_backend_get_default_buffer_type: f("void * ggml_backend_get_default_buffer_type(void * backend)"),
    ggml_backend_get_device: f("void * ggml_backend_get_device(void * backend)"),
    ggml_backend_graph_compute: f("int ggml_backend_graph_compute(void * backend, void * graph)"),
    ggml_backend_synchronize: f("void ggml_backend_synchronize(void * backend)"),
    ggml_backend_supports_op: f("bool ggml_backend_supports_op(void * backend, void * op)"),
    ggml_backend_dev_name: f("const char * ggml_backend_dev_name(void * device)"),
    ggml_backend_dev_description: f("const char * ggml_backend_dev_description(void * device)"),
    ggml_backend_dev_backend_reg: f("void * ggml_backend_dev_backend_reg(void * device)"),
    ggml_backend_reg_get_proc_address: f("void * ggml_backend_reg_get_proc_address(void * reg, const char * name)"),
    ggml_backend_reg_name: f("const char * ggml_backend_reg_name(void * reg)"),

    // scheduler (spreads one graph over several backends; the last one must be the CPU)
    ggml_backend_sched_new: f(
      "void * ggml_backend_sched_new(void ** backends, void ** bufts, int n_backends, size_t graph_size, bool parallel, bool op_offload)",
    ),
    ggml_backend_sched_free: f("void ggml_backend_sched_free(void * sched)"),
    ggml_backend_sched_reserve: f("bool ggml_backend_sched_reserve(void * sched, void * graph)"),
    ggml_backend_sched_alloc_graph: f("bool ggml_backend_sched_alloc_graph(void * sched, void * graph)"),
    ggml_backend_sched_graph_compute: f("int ggml_backend_sched_graph_compute(void * sched, void * graph)"),
    ggml_backend_sched_reset: f("void ggml_backend_sched_reset(void * sched)"),
    ggml_backend_sched_get_n_splits: f("int ggml_backend_sched_get_n_splits(void * sched)"),
    ggml_backend_sched_get_tensor_backend: f("void * ggml_backend_sched_get_tensor_backend(void * sched, void * node)"),

    // graph allocator (single backend, no scheduler)
    ggml_gallocr_new: f("void * ggml_gallocr_new(void * buft)"),
    ggml_gallocr_free: f("void ggml_gallocr_free(void * galloc)"),
    ggml_gallocr_alloc_graph: f("bool ggml_gallocr_alloc_graph(void * galloc, void * graph)"),
  };
}

function declareRegistry(lib: LibraryHandle) {
  const f = (signature: string) => lib.func(signature);
  return {
    ggml_backend_load_all_from_path: f("void ggml_backend_load_all_from_path(const char * dir_path)"),
    ggml_backend_load: f("void * ggml_backend_load(const char * path)"),
    ggml_backend_reg_count: f("size_t ggml_backend_reg_count()"),
    ggml_backend_reg_get: f("void * ggml_backend_reg_get(size_t index)"),
    ggml_backend_dev_count: f("size_t ggml_backend_dev_count()"),
    ggml_backend_dev_get: f("void * ggml_backend_dev_get(size_t index)"),
    ggml_backend_dev_type: f("int ggml_backend_dev_type(void * device)"),
    ggml_backend_dev_init: f("void * ggml_backend_dev_init(void * device, const char * params)"),
    ggml_backend_init_by_type: f("void * ggml_backend_init_by_type(int type, const char * params)"),
  };
}

/** Called through ggml_backend_reg_get_proc_address("ggml_backend_set_n_threads"). */
export const SetThreadsProto = koffi.proto("void ggml_backend_set_n_threads_t(void * backend, int n_threads)");
const LogCallbackProto = koffi.proto("void ggml_log_callback_t(int level, const char * text, void * user_data)");

export type Ggml = ReturnType<typeof declare> & ReturnType<typeof declareRegistry>;

export interface LoadedGgml {
  ggml: Ggml;
  libraries: GgmlLibraries;
  /** ggml_backend_load with ggml's log routed through the log sink: a backend library's registry, or NULL. */
  loadBackend: (path: string) => Pointer;
  /** The CPU variant VERTICAL_CPU_VARIANT forced, if any (see activeCpuVariant). */
  forcedCpuVariant: string | undefined;
}

let loaded: LoadedGgml | undefined;

/** ggml's own log lines (backend loading, warnings) go to this sink; errors always reach stderr. */
let logSink: (level: number, text: string) => void = (level, text) => {
  if (level >= 4) process.stderr.write(text);
};
export function setGgmlLogSink(sink: (level: number, text: string) => void): void {
  logSink = sink;
}

/**
 * Loads libggml-base, the backend registry and every backend found beside them (the registry picks
 * the best CPU variant for this processor). Loaded once per process; `device` picks the package.
 */
export function loadGgml(requested?: Device): LoadedGgml {
  if (loaded) {
    if (requested !== undefined && loaded.libraries.device !== requested && requested !== "cpu")
      throw new EngineError(
        `ggml was already loaded for ${loaded.libraries.device}; cannot switch to ${requested} in one process`,
        { hint: "choose the device (VERTICAL_DEVICE or the device option) before the first engine call" },
      );
    return loaded;
  }
  const device = requested ?? settings().device;
  const libraries = resolveLibraries(device);
  const base = koffi.load(libraries.base);
  const registry = koffi.load(libraries.registry);
  const ggml = { ...declare(base), ...declareRegistry(registry) };
  const logs = { get: base.func("void ggml_log_get(_Out_ void ** callback, _Out_ void ** user_data)"), set: base.func("void ggml_log_set(void * callback, void * user_data)") };
  const loadBackend = (path: string) => withGgmlLogSink(logs, () => ggml.ggml_backend_load(path) as Pointer);
  const variant = settings().cpuVariant;
  if (variant === undefined) withGgmlLogSink(logs, () => ggml.ggml_backend_load_all_from_path(libraries.directory));
  else loadForcedCpuVariant(libraries, variant, loadBackend);
  checkTensorLayout(ggml);
  loaded = { ggml, libraries, loadBackend, forcedCpuVariant: variant };
  return loaded;
}

/**
 * Registers one chosen CPU variant library instead of the best-scored one (and the GPU library the
 * device needs). ggml refuses a variant whose instructions this processor lacks (its score is 0).
 */
function loadForcedCpuVariant(libraries: GgmlLibraries, variant: string, loadBackend: (path: string) => Pointer): void {
  const library = cpuVariantLibrary(libraries.directory, variant);
  if (!loadBackend(library))
    throw new EngineError(`this processor cannot run ggml's CPU variant "${variant}" (ggml scores it 0)`, {
      where: "VERTICAL_CPU_VARIANT",
      hint: `use one it can run: ${supportedCpuVariants(libraries.directory).join(", ")}; or unset it to let ggml choose`,
    });
  if (libraries.device === "cpu") return;
  const gpu = path.join(libraries.directory, `libggml-${libraries.device}.so`);
  if (!fs.existsSync(gpu) || !loadBackend(gpu))
    throw new EngineError(`could not load ${gpu} beside the forced CPU variant "${variant}"`, { where: libraries.directory });
}

/**
 * ggml's own suitability score of each CPU variant library in `directory` for this processor
 * (`ggml_backend_score`, 0 = cannot run here), as ggml_backend_load_all_from_path ranks them.
 * Opening a variant library runs no backend code beyond its score function.
 */
export function cpuVariantScores(directory: string): Map<string, number> {
  const scores = new Map<string, number>();
  for (const variant of cpuVariantNames(fs.readdirSync(directory))) {
    const library = koffi.load(path.join(directory, `libggml-cpu-${variant}.so`));
    scores.set(variant, library.func("int ggml_backend_score()")() as number);
  }
  return scores;
}

/** The CPU variants this processor can run, best first. */
export function supportedCpuVariants(directory: string): string[] {
  return [...cpuVariantScores(directory)].filter(([, score]) => score > 0).sort((a, b) => b[1] - a[1]).map(([variant]) => variant);
}

/**
 * The CPU variant library the engine computes with (`libggml-cpu-<variant>.so`): the forced one, or
 * the one ggml's registry picked (the best score). Undefined for a build with a single libggml-cpu.so.
 */
export function activeCpuVariant(): string | undefined {
  const { forcedCpuVariant, libraries } = loadGgml();
  return forcedCpuVariant ?? supportedCpuVariants(libraries.directory)[0];
}

/**
 * Runs `load` with ggml's log routed through logSink: the registry logs a line per backend it
 * loads. The logger is given back afterwards (node-llama-cpp may have installed its own in this
 * process); the callback is only live during this synchronous call, so ggml never calls it from
 * another thread.
 */
function withGgmlLogSink<T>(logs: { get: KoffiFunc<(...args: unknown[]) => unknown>; set: KoffiFunc<(...args: unknown[]) => unknown> }, load: () => T): T {
  const previousCallback = [null] as unknown[];
  const previousUserData = [null] as unknown[];
  logs.get(previousCallback, previousUserData);
  const callback = koffi.register((level: number, text: string) => logSink(level, text), koffi.pointer(LogCallbackProto));
  logs.set(callback, null);
  try {
    return load();
  } finally {
    logs.set(previousCallback[0] ?? null, previousUserData[0] ?? null);
    koffi.unregister(callback);
  }
}

/**
 * Verifies the struct offsets this file reads (ne, op, src, buffer) on a throw-away context, so a
 * different ggml build fails loudly here instead of corrupting memory later.
 */
function checkTensorLayout(ggml: Ggml): void {
  const context = ggml.ggml_init({ mem_size: 16 * 1024, mem_buffer: null, no_alloc: true }) as Pointer;
  try {
    const a = ggml.ggml_new_tensor_2d(context, 0, 3, 5) as Pointer;
    const b = ggml.ggml_new_tensor_2d(context, 0, 3, 5) as Pointer;
    const sum = ggml.ggml_add(context, a, b) as Pointer;
    const sources = koffi.decode(sum, tensorLayout.src, "uint64_t", 2) as BigUint64Array | number[];
    const ok =
      readShape(sum).join() === "3,5,1,1" &&
      (koffi.decode(sum, tensorLayout.op, "int32_t") as number) === 2 && // GGML_OP_ADD
      BigInt(sources[0]!) === a &&
      BigInt(sources[1]!) === b &&
      readBufferPointer(a) === 0n &&
      ggml.ggml_nbytes(a) === 60;
    if (!ok)
      throw new EngineError("the ggml_tensor layout of this ggml build differs from the one Vertical reads", {
        hint: "node-llama-cpp was upgraded: re-check tensorLayout in src/engine/ffi.ts against ggml.h",
      });
  } finally {
    ggml.ggml_free(context);
  }
}

/** Reads `ne[0..3]` of a native tensor. */
export function readShape(tensor: Pointer): number[] {
  const ne = koffi.decode(tensor, tensorLayout.ne, "int64_t", 4) as BigInt64Array;
  return Array.from(ne, (value) => Number(value));
}

/** Reads `nb[0..3]` (strides in bytes) of a native tensor. */
export function readStrides(tensor: Pointer): number[] {
  const nb = koffi.decode(tensor, tensorLayout.nb, "uint64_t", 4) as BigUint64Array;
  return Array.from(nb, (value) => Number(value));
}

export function readType(tensor: Pointer): number {
  return koffi.decode(tensor, tensorLayout.type, "int32_t") as number;
}

/** Reads the data pointer of a native tensor (0n when not allocated). */
export function readDataPointer(tensor: Pointer): bigint {
  return BigInt(koffi.decode(tensor, tensorLayout.data, "uint64_t") as number | bigint);
}

export function readBufferPointer(tensor: Pointer): bigint {
  return BigInt(koffi.decode(tensor, tensorLayout.buffer, "uint64_t") as number | bigint);
}

/** Calls a backend-specific function found through the registry, e.g. the thread-count setter. */
export function callProc(proc: Pointer, proto: TypeObject, ...args: unknown[]): unknown {
  return koffi.call(proc, proto, ...args);
}

/** A C array of pointers, for ggml functions taking `T **`. */
export function pointerArray(pointers: (Pointer | null)[]): BigUint64Array {
  return BigUint64Array.from(pointers, (pointer) => pointer ?? 0n);
}
