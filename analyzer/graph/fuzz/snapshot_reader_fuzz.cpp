// Fuzzes the snapshot JSON reader (tether/graph/snapshot_reader.h).
//
// The reader promises: any input ends in a Snapshot or in one SnapshotError
// whose message names the file ("fuzz.json:LINE:COL: ..." or "fuzz.json: at
// JSON path ..."); never a crash, a hang or another exception type. A
// Snapshot that passed validation must also build a WaitGraph (it throws
// std::invalid_argument only for dangling ids, which validation rules out)
// and walk it. Anything else escapes and libFuzzer reports it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tether/graph/snapshot_reader.h"
#include "tether/graph/wait_graph.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "snapshot_reader_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tether::graph::Snapshot snap;
  try {
    snap = tether::graph::parse_snapshot(text, "fuzz.json");
  } catch (const tether::graph::SnapshotError& e) {
    const std::string_view msg = e.what();
    if (msg.rfind("fuzz.json:", 0) != 0) fail("error message does not name the file", msg);
    if (msg.find('\n') != std::string_view::npos && msg.find('\n') + 1 != msg.size())
      fail("error message is not one line", msg);
    return 0;
  }
  const std::size_t nfibers = snap.fibers.size();
  tether::graph::WaitGraph g(std::move(snap));  // must not throw for a validated snapshot
  if (g.snapshot().fibers.size() != nfibers) fail("WaitGraph lost fibers", "");
  std::size_t edges = 0;
  for (const tether::graph::NodeId& n : g.nodes()) {
    if (!g.contains(n)) fail("node not found by contains()", n.str());
    for (std::size_t e : g.out_edges(n)) {
      if (e >= g.snapshot().edges.size()) fail("edge index out of range", n.str());
      ++edges;
      (void)g.edge_in_deadlock(e);
    }
  }
  if (edges != g.snapshot().edges.size()) fail("out_edges do not cover every edge", "");
  for (const auto& cycle : g.cycles()) {
    if (cycle.empty()) fail("empty cycle", "");
  }
  return 0;
}
