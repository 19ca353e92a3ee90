// tether/trace/analysis.h — what a trace says about the program that wrote it.
//
// The analyses consume the decoded Events of one trace (event.h) and know
// nothing of the file format. Feed them to an Analyzer in the order the
// reader produces them (file order; events of one OS thread are in order, the
// threads' blocks interleave), then call finish(). The Analyzer keeps a
// compact copy of each event (about 64 bytes; names and stacks are interned)
// and replays them sorted by time, so a 10-million-event trace fits in well
// under a gigabyte.
//
// What finish() computes:
//   - the program's state at `at_ns` (default: the last event) — fibers,
//     threads, objects, syscalls in flight, lockers — and from it the
//     runtime's own wait-for graph, analysed by the runtime's own detector
//     (runtime/src/deadlock_detector.h, linked from tether_wait_model): the
//     deadlocks offline are the ones the online detector would have found
//     in that state, by construction;
//   - potential lock-order inversions anywhere in the run: a held->acquired
//     graph over lock_acquire/lock_release, keyed by object id, each cycle
//     reported once with the sites (and stacks) of both acquisitions;
//   - the longest occupancies of each shared (locker/main) thread: system
//     calls and fibers that ran without yielding; an occupancy at least
//     `stall_ns` long while other fibers were runnable there is a stall;
//   - fibers still blocked when the trace ends cleanly (an `end` event):
//     leaks; and every misuse event;
//   - a blocking profile like Go's: per wait reason and per call site
//     (site + stack), count, total and maximum blocked time.
// Robustness: any event sequence is accepted (a truncated trace ends
// anywhere; events naming unknown fibers or objects create them on the fly);
// nothing here throws on odd input.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tether/graph/snapshot.h"
#include "tether/trace/event.h"

namespace tether::trace {

// "1500000" (nanoseconds since the trace's start), "250ns", "20us", "1.5ms",
// "1.5s"; nullopt when malformed or negative.
std::optional<std::int64_t> parse_time(std::string_view s) noexcept;

struct AnalysisOptions {
  std::optional<std::int64_t> at_ns;      // state/deadlocks/graph here; default: the end
  std::size_t occupancy_top = 3;          // longest occupancies kept per shared thread
  std::int64_t stall_ns = 1'000'000'000;  // occupancy this long with waiters: a stall (0: off)
  bool leaks = true;                      // report fibers blocked at a clean end
};

struct SourceSite {
  std::string function;
  std::string file;  // empty: unknown
  int line = 0;
};

// A fiber as a finding shows it (as in docs/report-format.md).
struct FiberInfo {
  std::uint64_t id = 0;
  std::string name;
  std::string state;   // a WaitReason name ("chan receive", "mutex lock", ...)
  std::string object;  // "KIND:ID" of what it waits on, empty if none
  std::int64_t since_ns = 0;
  SourceSite site;  // where it waits
  SourceSite created_at;
  std::uint64_t locked_to = 0;  // thread id, 0: none
  std::vector<Frame> stack;     // innermost first; may be empty
};

struct ObjectInfo {
  std::uint64_t id = 0;
  std::string kind;  // "chan", "mutex", ...
  std::string name;
};

struct ThreadInfo {
  std::uint64_t id = 0;
  std::string name;
};

// One edge of a lock-order cycle: `fiber` acquired `acquired` while holding
// `held` (first time this order was seen).
struct LockOrderEdge {
  std::uint64_t held = 0, acquired = 0;  // object ids
  std::uint64_t fiber = 0;
  std::int64_t time_ns = 0;
  SourceSite held_site, acquired_site;
  std::vector<Frame> held_stack, acquired_stack;
};

struct Finding {
  // "deadlock", "leak", "lock-order-inversion", "stall", "misuse".
  std::string kind;
  // deadlock: the detector's pattern (global, lock-cycle, channel-cycle,
  // orphan-wait, shared-thread-syscall, self-request, call-self,
  // rwmutex-reader-writer); leak: orphan-wait; the others: same as kind.
  std::string pattern;
  std::int64_t time_ns = 0;
  std::vector<FiberInfo> fibers;
  std::vector<ObjectInfo> objects;
  std::vector<ThreadInfo> threads;
  std::vector<std::string> nodes;         // the cycle or chain ("fiber:2", "mutex:5", ...)
  std::vector<LockOrderEdge> lock_edges;  // lock-order-inversion: the cycle, in order
  std::string message;                    // one line
  std::string explanation;                // why nothing else can break it (deadlocks)
  std::string text;                       // the multi-line human report
  SourceSite location;                    // the primary site (SARIF's location)
};

// A shared thread held by one fiber: a system call, or running without yielding.
struct Occupancy {
  std::uint64_t thread = 0;
  std::string thread_name;
  std::uint64_t fiber = 0;
  std::string what;  // "read(fd 3)", "running without yielding"
  std::int64_t start_ns = 0, duration_ns = 0;
  std::size_t waiting = 0;  // most fibers runnable on the thread meanwhile
  bool ongoing = false;     // still held at the end of the trace
  SourceSite site;
};

struct ProfileEntry {
  std::string reason;  // WaitReason name
  SourceSite site;     // empty in the per-reason table
  std::uint32_t stack = 0;
  std::vector<Frame> frames;
  std::uint64_t count = 0;
  std::int64_t total_ns = 0, max_ns = 0;
};

// Blocked time per reason and per call site, each sorted by total descending.
// A wait still in progress at the end counts up to the end.
struct BlockingProfile {
  std::vector<ProfileEntry> by_reason;
  std::vector<ProfileEntry> by_site;
};

struct TraceStats {
  std::uint64_t events = 0;
  std::int64_t start_ns = 0, end_ns = 0;
  std::size_t fibers = 0, threads = 0, objects = 0;
  bool clean_end = false;  // an `end` event was seen
  std::int64_t exit_status = 0;
  std::uint64_t lost = 0;  // events the writer dropped (`lost` events): the state may be off
};

struct AnalysisResult {
  TraceStats stats;
  std::int64_t at_ns = 0;         // the time the state and the deadlocks describe
  std::vector<Finding> findings;  // deadlocks first, then leaks, inversions, stalls, misuse
  std::vector<Finding> online;    // `finding` events the runtime recorded (kind, pattern, fibers)
  std::vector<Occupancy> occupancies;  // per shared thread, longest first
  BlockingProfile profile;
  graph::Snapshot graph;  // the wait-for graph at at_ns, deadlocks marked (docs/snapshot-format.md)
};

class Analyzer {
 public:
  explicit Analyzer(AnalysisOptions options = {});
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  void add(const Event& e);
  // Runs the analyses; call once.
  AnalysisResult finish();
  // After finish(): Chrome Trace Event JSON of the whole run (Perfetto):
  // one track per fiber grouped by thread, waits and runs as slices, syscalls,
  // wake-up flows, one global instant per finding.
  std::string chrome_json(const AnalysisResult& r) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience: every event of a vector.
AnalysisResult analyze(const std::vector<Event>& events, const AnalysisOptions& options = {});

}  // namespace tether::trace
