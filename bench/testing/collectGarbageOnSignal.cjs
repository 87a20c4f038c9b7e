// Preloaded into the benchmarked server only (node --expose-gc --require this): SIGUSR2 runs a full
// garbage collection and says so on stderr, so the bench can read the heap that is really retained.
process.on("SIGUSR2", () => {
  globalThis.gc();
  process.stderr.write("bench: garbage collected\n");
});
