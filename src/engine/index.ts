/** The engine's public surface: typed ggml wrappers with explicit lifetimes. */
export { Context, Tensor, RopeMode, type ContextOptions, type RopeOptions } from "./context.js";
export { Backend, BackendBuffer, Graph, Scheduler, checkThreads, defaultBlasLibrary, type BackendOptions, type GraphOptions } from "./backend.js";
export { GgmlType, typeName, rowBytes, isQuantized, blockOf } from "./types.js";
export { quantizeRows, halfToFloat } from "./quantize.js";
export { findBinsDirectory, resolveLibraries, type Device, type GgmlLibraries } from "./discovery.js";
export { activeCpuVariant, cpuVariantScores, loadGgml, setGgmlLogSink, supportedCpuVariants } from "./ffi.js";
