#include "deadlock_watchdog.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "deadlock_detector.h"
#include "fiber_dump.h"
#include "findings_report.h"
#include "stack_capture.h"
#include "thread_parker.h"
#include "wait_graph.h"
#include "trace_writer.h"

namespace tether::detail {
namespace {

std::int64_t env_ms(const char* name, std::int64_t def) {
  if (const char* e = std::getenv(name)) {
    char* end = nullptr;
    const long long v = std::strtoll(e, &end, 10);
    if (end != e && *end == '\0' && v >= 0) return v;
  }
  return def;
}

void write_all(int fd, const std::string& s) {
  const char* p = s.data();
  std::size_t left = s.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void append_file(const char* path, const std::string& s) {
  const int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  write_all(fd, s);
  ::close(fd);
}

std::string key_of(const WaitGraph& g, const Deadlock& d) {
  std::string k = d.kind;
  for (std::uint64_t id : d.fibers) {
    const FiberNode* f = g.fiber(id);
    k += fmt::format(" {}@{}", id, f ? f->version : 0);
  }
  return k;
}

// Copies the captured stacks into the graph's fibers (for the snapshot JSON).
void attach_stacks(WaitGraph& g, const Capture& cap) {
  for (const FiberSnapshot& fs : cap.fibers) {
    FiberNode* f = const_cast<FiberNode*>(g.fiber(fs.id));
    if (!f) continue;
    const SymbolizedStack st = symbolize_stack(fs.stack);
    f->stack.clear();
    for (const Frame& fr : st.frames) f->stack.push_back(StackFrame{fr.function, fr.file, fr.line, fr.pc});
  }
}

}  // namespace

void emit_finding_text(const std::string& text, bool to_report_file) {
  write_all(STDERR_FILENO, text);
  if (!to_report_file) return;
  if (const char* path = std::getenv("TETHER_REPORT_FILE")) append_file(path, text);
}

std::string format_deadlock_report(const WaitGraph& g, const Deadlock& d) {
  return "tether: " + describe_deadlock(g, d) + "\n";
}

void DeadlockWatchdog::start() {
  period_ms_ = env_ms("TETHER_DETECT_MS", 100);
  stall_ms_ = env_ms("TETHER_STALL_MS", 1000);
  if (const char* p = std::getenv("TETHER_ON_DEADLOCK")) {
    if (std::strcmp(p, "report") == 0) policy_ = Policy::report;
    else if (std::strcmp(p, "ignore") == 0) policy_ = Policy::ignore;
  }
  if (period_ms_ == 0 || policy_ == Policy::ignore) return;
  stop_ = false;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tether-detect");
    loop();
  });
}

void DeadlockWatchdog::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeadlockWatchdog::poke() {
  {
    std::lock_guard lk(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

bool DeadlockWatchdog::wait_for(std::int64_t ms) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, std::chrono::milliseconds(ms), [&] { return stop_ || poked_; });
  poked_ = false;
  return !stop_;
}

void DeadlockWatchdog::loop() {
  // A look at a big program costs milliseconds (every fiber and object is
  // read): wait at least 10x what the last look took, so the detector never
  // takes more than ~10% of one CPU.
  std::int64_t wait_ms = period_ms_;
  while (wait_for(wait_ms)) {
    const std::int64_t t0 = now_ns();
    check(false);
    const std::int64_t took_ms = (now_ns() - t0) / 1'000'000;
    wait_ms = std::max(period_ms_, 10 * took_ms);
  }
}

void DeadlockWatchdog::emit(const std::string& text) { emit_finding_text(text, true); }

void report_leaks_at_exit() {
  // Under `tether run` (or asked for with TETHER_LEAKS=1); a program that
  // simply returns from main while fibers wait is normal Go style otherwise.
  const char* under_run = std::getenv("TETHER_UNDER_RUN");
  const char* leaks = std::getenv("TETHER_LEAKS");
  if (!(under_run && std::strcmp(under_run, "1") == 0) && !(leaks && std::strcmp(leaks, "1") == 0))
    return;
  // Fibers that are still running or runnable are about to block or finish:
  // give them up to ~50 ms to settle, so a fiber one step from its last wait
  // is judged by that wait.
  WaitGraph g = take_snapshot();
  for (int i = 0; i < 50; ++i) {
    const bool moving = std::any_of(g.fibers.begin(), g.fibers.end(), [](const FiberNode& n) {
      return n.reason == WaitReason::running || n.reason == WaitReason::runnable;
    });
    if (!moving) break;
    ::usleep(1000);
    g = take_snapshot();
  }
  const DeadlockFinding f = find_deadlocks(g);
  if (f.deadlocked.empty()) return;
  std::string text = fmt::format("tether: {} fiber{} leaked: blocked forever when fiber 1 returned:\n",
                                 f.deadlocked.size(), f.deadlocked.size() == 1 ? "" : "s");
  for (std::uint64_t id : f.deadlocked) {
    const FiberNode* n = g.fiber(id);
    if (!n) continue;
    std::string what;
    if (const ObjectNode* o = n->object_id ? g.object(n->object_id) : nullptr)
      what = " waits for " + describe_node(g, object_node_id(*o));
    text += fmt::format("  {} [{}]{} at {}:{}, created at {}:{}\n", describe_node(g, node_id("fiber", id)),
                        to_string(n->reason), what, n->site.file_name(), n->site.line(),
                        n->created_at.file_name(), n->created_at.line());
  }
  write_all(STDERR_FILENO, text);
  if (const char* report = std::getenv("TETHER_REPORT_FILE")) append_file(report, text);
  WaitGraph gs = g;
  attach_stacks(gs, capture_fibers(f.deadlocked));
  FindingsReport::instance().add(gs, "leak", "orphan-wait", f.deadlocked, {},
                                 "blocked forever when fiber 1 returned", text);
}

// How long a fiber's blocking system call must have lasted before a deadlock
// through it is reported (see check()). Wait-state times come from the coarse
// clock (1-10 ms), well inside this.
constexpr std::int64_t kSyscallSettleNs = 500'000'000;

void DeadlockWatchdog::check(bool) {
  WaitGraph g1 = take_snapshot();
  DeadlockFinding f1 = find_deadlocks(g1);
  if (f1.deadlocked.empty()) {
    check_stalls(g1);
    return;
  }
  // Believe it only if it is still there, unchanged, a moment later.
  {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::milliseconds(10), [&] { return stop_; });
    if (stop_) return;
  }
  WaitGraph g2 = take_snapshot();
  DeadlockFinding f2 = find_deadlocks(g2);
  auto unchanged = [&](const Deadlock& d) {
    for (std::uint64_t id : d.fibers) {
      const FiberNode* a = g1.fiber(id);
      const FiberNode* b = g2.fiber(id);
      if (!a || !b || a->version != b->version) return false;
      if (!std::binary_search(f1.deadlocked.begin(), f1.deadlocked.end(), id)) return false;
    }
    return true;
  };
  // A fiber in read() or write() on a pipe or socketpair is taken to wait
  // for the other end, but the kernel may just not have finished a call
  // that does not block at all (a write() with room in the pipe, preempted
  // on a busy machine: the soak run under heaptrack saw one across the
  // 10 ms above). A wait the kernel has not ended for kSyscallSettleNs is
  // believed; until then the next check looks again.
  const std::int64_t now = now_ns();
  auto settled = [&](const std::vector<std::uint64_t>& ids) {
    for (std::uint64_t id : ids) {
      const FiberNode* f = g2.fiber(id);
      if (f && f->reason == WaitReason::syscall && now - f->since_ns < kSyscallSettleNs)
        return false;
    }
    return true;
  };
  std::string text;
  bool all_confirmed = !f2.deadlocks.empty() && settled(f2.deadlocked);
  std::vector<const Deadlock*> fresh;
  for (const Deadlock& d : f2.deadlocks) {
    if (!unchanged(d) || !settled(d.fibers)) {
      all_confirmed = false;
      continue;
    }
    if (reported_.insert(key_of(g2, d)).second) fresh.push_back(&d);
  }
  const bool global = f2.global && f1.global && all_confirmed;
  if (fresh.empty() && !global) return;
  if (global) text += "fatal error: all fibers are asleep - deadlock!\n\n";
  for (const Deadlock* d : fresh) text += format_deadlock_report(g2, *d);
  // The stacks: every fiber for a global deadlock (as Go), else the ones involved.
  std::vector<std::uint64_t> involved;
  if (!global) {
    for (const Deadlock* d : fresh) involved.insert(involved.end(), d->fibers.begin(), d->fibers.end());
  }
  const Capture cap = capture_fibers(involved);
  text += "\n";
  text += global ? format_dump(cap, "deadlock") : format_fibers(cap, "", involved);
  text += "\n";
  attach_stacks(g2, cap);
  auto& report = FindingsReport::instance();
  if (global) {
    report.add(g2, "deadlock", "global", f2.deadlocked, {}, "all fibers are asleep",
               "fatal error: all fibers are asleep - deadlock!");
  }
  for (const Deadlock* d : fresh) {
    report.add(g2, "deadlock", d->kind, d->fibers, d->nodes, d->explanation,
               format_deadlock_report(g2, *d));
  }
  if (!snapshot_written_) {
    if (const char* path = std::getenv("TETHER_SNAPSHOT")) {
      g2.deadlocks.clear();
      for (const Deadlock* d : fresh) g2.deadlocks.push_back(*d);
      if (global) {
        Deadlock all;
        all.kind = "global";
        all.fibers = f2.deadlocked;
        all.explanation = "all fibers are asleep";
        g2.deadlocks.insert(g2.deadlocks.begin(), all);
      }
      const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
        write_all(fd, to_json(g2));
        ::close(fd);
      }
      snapshot_written_ = true;
    }
  }
  emit(text);
  if (global && policy_ == Policy::exit) {
    std::fflush(nullptr);
    trace::flush_before_exit();
    ::_exit(2);
  }
}

void DeadlockWatchdog::check_stalls(const WaitGraph& g) {
  if (stall_ms_ == 0) return;
  // Forget threads that have exited: a program that makes lockers over and
  // over grew this map by an entry per locker (scripts/soak.sh found it).
  std::erase_if(stalls_, [&g](const auto& e) {
    return std::none_of(g.threads.begin(), g.threads.end(),
                        [&e](const ThreadNode& t) { return t.id == e.first; });
  });
  for (const ThreadNode& t : g.threads) {
    if (t.kind == "pool") continue;
    StallState& s = stalls_[t.id];
    const std::uint64_t holder = t.running;
    if (holder == 0 || t.runnable == 0 || t.switches != s.switches || holder != s.fiber) {
      s = StallState{t.switches, holder, g.time_ns, false};
      continue;
    }
    const std::int64_t held_ms = (g.time_ns - s.since_ns) / 1'000'000;
    if (s.reported || held_ms < stall_ms_) continue;
    s.reported = true;
    const FiberNode* f = g.fiber(holder);
    std::string how = f && f->reason == WaitReason::syscall
                          ? "in " + describe_node(g, node_id("syscall", t.id))
                          : "without yielding";
    // Who waits for the thread: runnable there, or moving onto it.
    std::vector<std::uint64_t> waiting;
    std::string names;
    for (const FiberNode& w : g.fibers) {
      const bool queued = (w.reason == WaitReason::runnable && w.locked_to == t.id) ||
                          (w.reason == WaitReason::waiting_for_thread && w.object_id == t.id);
      if (!queued || w.id == holder) continue;
      waiting.push_back(w.id);
      names += (names.empty() ? "" : ", ") + describe_node(g, node_id("fiber", w.id));
    }
    std::string text =
        fmt::format("tether: stall: fiber {} has held thread \"{}\" {} for {} ms while {} "
                    "fiber{} runnable there\n",
                    holder, t.name, how, held_ms, t.runnable, t.runnable == 1 ? " is" : "s are");
    if (!names.empty()) text += "  waiting: " + names + "\n";
    // The occupying fiber's stack, taken by signalling its thread (as dumps do).
    const Capture cap = capture_fibers({holder});
    text += format_fibers(cap, "", {holder});
    text += "\n";
    // A warning, not an error: stderr and the JSON report, but not
    // TETHER_REPORT_FILE (`tether run` does not exit 66 for a stall alone).
    emit_finding_text(text, /*to_report_file=*/false);
    WaitGraph gs = g;
    attach_stacks(gs, cap);
    std::vector<std::uint64_t> involved{holder};
    involved.insert(involved.end(), waiting.begin(), waiting.end());
    FindingsReport::instance().add(gs, "stall", "stall", involved, {node_id("thread", t.id)},
                                   "a shared thread is held while other fibers wait for it", text);
  }
}

}  // namespace tether::detail
