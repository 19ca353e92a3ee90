// FindingsReport: the machine-readable report of what the detector found
// (docs/report-format.md), written to TETHER_REPORT (tether run --report).
//
// Each finding (a deadlock, a leak at exit, a stall, a lock-order inversion,
// a misuse that ends the program) is added as it is
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

// One fiber of a finding that is not built from a wait-for graph (a
// lock-order inversion names fibers that may have finished long ago).
struct ReportFiber {
  std::uint64_t id = 0;
  std::string name;
  std::string state;   // a wait reason, or what it was doing ("lock" for an edge)
  std::string object;  // "mutex:3", or empty (null in the JSON)
  std::string file;
  unsigned line = 0;
  std::uint64_t locked_to = 0;  // 0: null
  std::vector<StackFrame> stack;
};
struct ReportObject {
  std::uint64_t id = 0;
  std::string kind;  // "mutex", "rwmutex", ...
  std::string name;
};

// [{"function":..,"file":..,"line":..}, ...], appended to out.
void append_stack_json(std::string& out, const std::vector<StackFrame>& stack);

class FindingsReport {
 public:
  static FindingsReport& instance();
  // kind: "deadlock", "leak", "stall"; pattern: a Deadlock kind ("lock-cycle", ...).
  void add(const WaitGraph& g, std::string_view kind, std::string_view pattern,
           const std::vector<std::uint64_t>& fibers, const std::vector<std::string>& nodes,
           std::string_view explanation, std::string_view text);
  // The same, from explicit parts; `extra` is appended to the finding's
  // object as is (",\"cycle\":[...]"; empty or starting with a comma).
  void add(std::string_view kind, std::string_view pattern, const std::vector<ReportFiber>& fibers,
           const std::vector<ReportObject>& objects, std::string_view explanation,
           std::string_view text, std::string_view extra = {});

 private:
  void write_locked();
  std::mutex mu_;
  std::vector<std::string> findings_;  // JSON objects
};

}  // namespace tether::detail
