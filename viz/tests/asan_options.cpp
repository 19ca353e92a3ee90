// ASan defaults for the viz test binaries: unwind allocation stacks fully
// (slow, but Debian's Graphviz has no frame pointers, and viz/lsan.supp
// matches Graphviz function names deep in those stacks). Without ASan this
// function is never called.
extern "C" const char* __asan_default_options() {
  return "fast_unwind_on_malloc=0";
}
