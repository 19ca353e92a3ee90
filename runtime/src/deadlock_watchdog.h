// DeadlockWatchdog: the thread that runs the detector while the program runs.
//
// Every TETHER_DETECT_MS (default 100; 0 turns it off; longer when a look at
// a big program takes more than a tenth of that) it takes a snapshot
// and looks for deadlocked fibers; a finding is believed only if a second
// snapshot 10 ms later shows the same fibers in the same, unchanged wait
// states (snapshots are not atomic). Each deadlock is reported once, on
// stderr (and appended to TETHER_REPORT_FILE when set, which `tether run`
// uses); the first finding also writes the snapshot JSON to TETHER_SNAPSHOT.
// When no fiber at all can progress it prints Go's
//   fatal error: all fibers are asleep - deadlock!
// and, with TETHER_ON_DEADLOCK=exit (the default), exits with status 2;
// `report` keeps the program running, `ignore` reports nothing. It also
// reports a shared thread held by one fiber (running or in a system call)
// for longer than TETHER_STALL_MS (default 1000) while others are runnable
// there.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace tether::detail {

struct WaitGraph;
struct Deadlock;

class DeadlockWatchdog {
 public:
  void start();
  void stop();
  void poke();  // look now (all threads went idle)

 private:
  void loop();
  bool wait_for(std::int64_t ms);  // false when stopping
  void check(bool poked);
  void check_stalls(const WaitGraph& g);
  void emit(const std::string& text);

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool poked_ = false;
  std::thread thread_;
  std::int64_t period_ms_ = 100;
  std::int64_t stall_ms_ = 1000;
  enum class Policy { exit, report, ignore } policy_ = Policy::exit;
  std::set<std::string> reported_;
  bool snapshot_written_ = false;
  struct StallState {
    std::uint64_t switches = 0;
    std::uint64_t fiber = 0;
    std::int64_t since_ns = 0;
    bool reported = false;
  };
  std::map<std::uint64_t, StallState> stalls_;
};

// At the end of run(): fibers that nothing can ever wake any more (fiber 1
// has returned) are leaks. Reported like deadlocks (stderr and
// TETHER_REPORT_FILE) under `tether run` (TETHER_UNDER_RUN=1) or with TETHER_LEAKS=1.
void report_leaks_at_exit();

// Prints a finding's text on stderr and, with `to_report_file`, appends it to
// TETHER_REPORT_FILE, whose being non-empty makes `tether run` exit 66
// (deadlocks, leaks, lock-order inversions; not stall warnings).
void emit_finding_text(const std::string& text, bool to_report_file);

// The report for a confirmed finding, as printed (used by tests too).
std::string format_deadlock_report(const WaitGraph& g, const Deadlock& d);

}  // namespace tether::detail
