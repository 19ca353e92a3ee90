// FindingsReport: the machine-readable report of what the detector found
// (docs/report-format.md), written to TETHER_REPORT (tether run --report).
//
// Each finding (a deadlock, a leak at exit, a stall) is added as it is
// reported on stderr; the whole file is rewritten each time (to a temporary
// file, then renamed), so a reader never sees half of it and a program that
// is killed afterwards still leaves every finding reported so far.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "wait_graph.h"

namespace tether::detail {

class FindingsReport {
 public:
  static FindingsReport& instance();
  // kind: "deadlock", "leak", "stall"; pattern: a Deadlock kind ("lock-cycle", ...).
  void add(const WaitGraph& g, std::string_view kind, std::string_view pattern,
           const std::vector<std::uint64_t>& fibers, const std::vector<std::string>& nodes,
           std::string_view explanation, std::string_view text);

 private:
  void write_locked();
  std::mutex mu_;
  std::vector<std::string> findings_;  // JSON objects
};

}  // namespace tether::detail
