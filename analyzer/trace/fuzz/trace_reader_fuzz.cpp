// Fuzzes the trace reader (tether/trace/trace_reader.h) and, when built, the
// analyses behind it (tether/trace/analysis.h), on the reader's valid prefix
// exactly as `tether analyze` runs them.
//
// The reader promises: any input ends in a stream of events and at most one
// TraceError "fuzz.tt: byte N: expected X, found Y" (one line, N within the
// input); never a crash, a hang, unbounded allocation or an exception other
// than std::bad_alloc. What it returns must be in range: event count bounded
// by the input size, site/stack references either 0 or defined earlier.
// Anything else aborts and libFuzzer reports it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_set>

#include "tether/trace/trace_reader.h"
#ifdef TETHER_FUZZ_ANALYSIS
#include "tether/trace/analysis.h"
#endif

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "trace_reader_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace

namespace {

// One pass over the input; with `crc` off, mutated records get past the
// block checksum and reach the decoder (and the analyses).
void read_once(std::string_view bytes, bool crc) {
  using namespace tether::trace;
  const std::size_t size = bytes.size();
  Limits limits;
  limits.verify_checksums = crc;
  TraceReader reader(bytes, "fuzz.tt", limits);
#ifdef TETHER_FUZZ_ANALYSIS
  Analyzer analyzer;
#endif
  std::unordered_set<std::uint32_t> sites, stacks;
  Event e;
  std::uint64_t n = 0;
  while (reader.next(e)) {
    ++n;
    if (e.type == EventType::site) sites.insert(static_cast<std::uint32_t>(e.id));
    if (e.type == EventType::stack) stacks.insert(static_cast<std::uint32_t>(e.id));
    if (e.site != 0 && !sites.count(e.site)) fail("undefined site let through", "");
    if (e.stack != 0 && !stacks.count(e.stack)) fail("undefined stack let through", "");
#ifdef TETHER_FUZZ_ANALYSIS
    analyzer.add(e);
#endif
  }
  if (n > size / 3) fail("more events than the input can hold", std::to_string(n));
  const ReaderStats& st = reader.stats();
  if (st.events != n) fail("stats().events disagrees with next()", std::to_string(st.events));
  if (st.valid_bytes > size) fail("valid_bytes beyond the input", std::to_string(st.valid_bytes));
  if (const auto& err = reader.error()) {
    const std::string msg = err->message();
    if (msg.rfind("fuzz.tt: byte ", 0) != 0) fail("error message does not name the file", msg);
    if (msg.find('\n') != std::string::npos) fail("error message is not one line", msg);
    if (err->offset > size) fail("error offset beyond the input", msg);
    if (err->offset < st.valid_bytes) fail("error before the valid prefix's end", msg);
  } else if (!reader.header_ok()) {
    fail("no header and no error", "");
  }
#ifdef TETHER_FUZZ_ANALYSIS
  if (n > 0) (void)analyzer.finish();
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  read_once(bytes, true);
  read_once(bytes, false);
  return 0;
}
