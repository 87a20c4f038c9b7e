/**
 * Test-only access to ggml's own functions in the shipped libggml-base.so, used as the reference
 * for type sizes, f16/bf16/q8_0 conversion and GGUF parsing. Not part of the engine's API.
 */
import path from "node:path";
import koffi from "koffi";
import { findBinsDirectory } from "../discovery.js";

const binsDirectory = findBinsDirectory("cpu");
const libraryPath = binsDirectory ? path.join(binsDirectory, "libggml-base.so") : "";

export const nativeAvailable = binsDirectory !== undefined;

let cached: ReturnType<typeof load> | undefined;
function load() {
  const lib = koffi.load(libraryPath);
  koffi.struct("vertical_test_gguf_init_params", { no_alloc: "bool", ctx: "void *" });
  return {
    typeSize: lib.func("size_t ggml_type_size(int type)"),
    blockSize: lib.func("int64_t ggml_blck_size(int type)"),
    fp32ToFp16Row: lib.func("void ggml_fp32_to_fp16_row(const float *x, _Out_ uint16_t *y, int64_t n)"),
    fp32ToBf16RowRef: lib.func("void ggml_fp32_to_bf16_row_ref(const float *x, _Out_ uint16_t *y, int64_t n)"),
    quantizeChunk: lib.func(
      "size_t ggml_quantize_chunk(int type, const float *src, _Out_ uint8_t *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)",
    ),
    ggufInit: lib.func("void *gguf_init_from_file(const char *fname, vertical_test_gguf_init_params params)"),
    ggufFree: lib.func("void gguf_free(void *ctx)"),
    ggufTensorCount: lib.func("int64_t gguf_get_n_tensors(void *ctx)"),
    ggufKeyCount: lib.func("int64_t gguf_get_n_kv(void *ctx)"),
    ggufDataOffset: lib.func("size_t gguf_get_data_offset(void *ctx)"),
    ggufTensorOffset: lib.func("size_t gguf_get_tensor_offset(void *ctx, int64_t tensor_id)"),
    ggufTensorName: lib.func("const char *gguf_get_tensor_name(void *ctx, int64_t tensor_id)"),
    ggufTensorType: lib.func("int gguf_get_tensor_type(void *ctx, int64_t tensor_id)"),
    ggufTensorSize: lib.func("size_t gguf_get_tensor_size(void *ctx, int64_t tensor_id)"),
  };
}

export function ggmlNative() {
  cached ??= load();
  return cached;
}

/** What ggml's own GGUF parser sees in `file`, or null when it rejects the file. */
export function parseWithGgml(file: string) {
  const native = ggmlNative();
  const context = native.ggufInit(file, { no_alloc: true, ctx: null });
  if (!context) return null;
  try {
    const tensors = [];
    const count = Number(native.ggufTensorCount(context));
    for (let i = 0; i < count; i++) {
      tensors.push({
        name: native.ggufTensorName(context, i) as string,
        type: native.ggufTensorType(context, i) as number,
        offset: Number(native.ggufTensorOffset(context, i)),
        size: Number(native.ggufTensorSize(context, i)),
      });
    }
    return { keys: Number(native.ggufKeyCount(context)), dataOffset: Number(native.ggufDataOffset(context)), tensors };
  } finally {
    native.ggufFree(context);
  }
}
