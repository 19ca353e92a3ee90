// Lock-order tracking: held-lock sets per logical thread, the order graph,
// and the inversion report (lock_order.h). The hooks take State::mu only for
// a (held, acquired) pair the calling OS thread has not seen before.
#include "lock_order.h"

#include <fmt/format.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "deadlock_watchdog.h"  // emit_finding_text
#include "fiber_dump.h"         // symbolize_stack
#include "fiber_impl.h"
#include "fiber_registry.h"
#include "findings_report.h"
#include "lock_order_graph.h"
#include "lock_order_held.h"
#include "scheduler.h"  // current_worker(), inline
#include "stack_capture.h"
#include "sync_object.h"

namespace tether::detail {

std::atomic<bool> g_lock_order_on{false};

namespace {

constexpr std::size_t kEdgeFrames = 32;  // PCs kept per edge

// Who took an edge, where, and how.
struct EdgeInfo {
  std::uint64_t fiber = 0;  // 0: a plain thread
  std::string who;          // fiber name, or the thread's name
  bool read = false;
  std::source_location site;       // where `to` was acquired
  std::source_location held_site;  // where `from` had been acquired
  std::vector<std::uintptr_t> pcs;
};

struct LockInfo {
  ObjectKind kind;
  std::string name;
};

// One inversion to print, copied out of the state under its lock.
struct Inversion {
  std::vector<std::uint64_t> cycle;  // lock ids, first == last
  std::vector<EdgeInfo> edges;       // edges[i]: cycle[i] -> cycle[i + 1]
  std::vector<LockInfo> locks;       // locks[i]: cycle[i]
};

struct State {
  std::mutex mu;  // the graph and everything below it
  LockOrderGraph graph;
  std::map<std::pair<std::uint64_t, std::uint64_t>, EdgeInfo> edges;
  std::unordered_map<std::uint64_t, LockInfo> locks;          // live locks seen acquired
  std::set<std::pair<std::uint64_t, std::uint64_t>> refused;  // edges that close a cycle
  std::set<std::vector<std::uint64_t>> reported;              // cycles, rotated to start at min
  std::atomic<std::size_t> inversions{0};
  std::mutex plain_mu;  // the list of threads' held sets
  HeldLocks* plain_head = nullptr;
};

State& state() {
  static State* s = new State;  // used until the process ends (abandoned fibers unlock late)
  return *s;
}

// One OS thread's tracker state: its held locks while it runs no fiber (a
// plain thread), and its caches. Allocated at the thread's first tracked
// lock, listed for release_anywhere(), freed when the thread exits.
struct ThreadState {
  HeldLocks held{nullptr};
  PairCache<256, 128> cache;
};

constinit thread_local ThreadState* tls_state __attribute__((tls_model("initial-exec"))) = nullptr;
constinit thread_local bool tls_exited __attribute__((tls_model("initial-exec"))) = false;

struct ThreadStateGuard {
  bool armed = false;
  ~ThreadStateGuard() {
    ThreadState* ts = tls_state;
    if (!ts) return;
    State& s = state();
    {
      std::lock_guard lk(s.plain_mu);
      HeldLocks& h = ts->held;
      (h.list_prev ? h.list_prev->list_next : s.plain_head) = h.list_next;
      if (h.list_next) h.list_next->list_prev = h.list_prev;
    }
    tls_state = nullptr;
    tls_exited = true;  // a lock taken by a later thread-exit destructor is not tracked
    delete ts;
  }
};
thread_local ThreadStateGuard tls_guard;

// Null only while the thread exits. May throw std::bad_alloc.
ThreadState* thread_state() {
  if (ThreadState* ts = tls_state) return ts;
  if (tls_exited) return nullptr;
  auto* ts = new ThreadState;
  State& s = state();
  {
    std::lock_guard lk(s.plain_mu);
    ts->held.list_next = s.plain_head;
    if (s.plain_head) s.plain_head->list_prev = &ts->held;
    s.plain_head = &ts->held;
  }
  tls_state = ts;
  tls_guard.armed = true;  // constructs the guard: its destructor runs at thread exit
  return ts;
}

// current_fiber(), inline: the hooks run several times per lock.
inline Fiber* calling_fiber() noexcept {
  Worker* w = current_worker();
  return w ? w->current : nullptr;
}

// A fiber's held set, allocated at its first tracked acquisition.
[[gnu::noinline]] HeldLocks* new_fiber_held(Fiber* f) {
  auto* h = new HeldLocks(f->lock_order.caller);
  f->lock_order.held.store(h, std::memory_order_release);
  return h;
}

// Calls fn(entry, lock id, mine) for every lock the logical thread holds:
// `own`'s (mine: the caller may update the entry's memo), then, for a call()
// fiber, its waiting callers'. fn returns false to stop.
template <class Fn>
void for_each_held(HeldLocks* own, const HeldLocks* callers, Fn&& fn) {
  if (own) {
    for (std::size_t i = 0, n = own->size(); i < n; ++i) {
      HeldEntry& e = own->mine(i);
      const std::uint64_t id = e.lock.load(std::memory_order_relaxed);
      if (id != 0 && !fn(e, id, true)) return;
    }
  }
  for (const HeldLocks* h = callers; h; h = h->caller) {
    for (std::size_t i = 0, n = h->size(); i < n; ++i) {
      const HeldEntry& e = h->at(i);
      const std::uint64_t id = e.lock.load(std::memory_order_relaxed);
      if (id != 0 && !fn(const_cast<HeldEntry&>(e), id, false)) return;
    }
  }
}

// A lock released by a logical thread that does not hold it (Go allows it):
// clear it in whichever fiber or thread does.
void release_anywhere(std::uint64_t id) {
  bool done = false;
  FiberRegistry::instance().for_each([&](Fiber& g) {
    if (done) return;
    if (HeldLocks* h = g.lock_order.held.load(std::memory_order_acquire)) done = h->clear(id);
  });
  if (done) return;
  State& s = state();
  std::lock_guard lk(s.plain_mu);
  for (HeldLocks* h = s.plain_head; h && !h->clear(id); h = h->list_next) {
  }
}

std::string lock_text(std::uint64_t id, const LockInfo& l) {
  std::string s = fmt::format("{} {}", to_string(l.kind), id);
  if (!l.name.empty()) s += " \"" + l.name + "\"";
  return s;
}

std::string site_text(const std::source_location& s) {
  return s.line() ? fmt::format("{}:{}", s.file_name(), s.line()) : std::string("an unknown site");
}

std::vector<StackFrame> frames_of(const EdgeInfo& e) {
  RawStack raw;
  raw.clear();
  for (std::uintptr_t pc : e.pcs) raw.push(pc);
  const SymbolizedStack st = symbolize_stack(raw);
  std::vector<StackFrame> out;
  for (const Frame& f : st.frames) out.push_back(StackFrame{f.function, f.file, f.line, f.pc});
  return out;
}

std::string fiber_text(const EdgeInfo& e) {
  if (e.fiber == 0) return fmt::format("thread \"{}\" (not a fiber)", e.who);
  return e.who.empty() ? fmt::format("fiber {}", e.fiber)
                       : fmt::format("fiber {} \"{}\"", e.fiber, e.who);
}

void report(const Inversion& inv) {
  const std::size_t n = inv.edges.size();
  std::vector<std::vector<StackFrame>> stacks;
  for (const EdgeInfo& e : inv.edges) stacks.push_back(frames_of(e));

  std::string text = "tether: potential deadlock: lock-order inversion\n  Cycle in lock order graph: ";
  for (std::size_t i = 0; i < n; ++i) text += lock_text(inv.cycle[i], inv.locks[i]) + " => ";
  text += fmt::format("{} {}\n", to_string(inv.locks[0].kind), inv.cycle[0]);
  for (std::size_t i = 0; i < n; ++i) {
    const EdgeInfo& e = inv.edges[i];
    const std::size_t to = (i + 1) % n;
    text += fmt::format("  {} acquired{} while holding {} by {} at {} ({} acquired at {}):\n",
                        lock_text(inv.cycle[to], inv.locks[to]), e.read ? " for reading" : "",
                        lock_text(inv.cycle[i], inv.locks[i]), fiber_text(e), site_text(e.site),
                        lock_text(inv.cycle[i], inv.locks[i]), site_text(e.held_site));
    for (const StackFrame& f : stacks[i]) {
      text += fmt::format("    {}\n      {}:{}\n", f.function, f.file.empty() ? "??" : f.file, f.line);
    }
    if (stacks[i].empty()) text += "    (no stack)\n";
  }
  text += "  Fibers running these paths at the same time can deadlock; take the locks in one order.\n";
  emit_finding_text(text, /*to_report_file=*/true);

  // The JSON finding: each edge's fiber (once), the locks, and the cycle.
  std::vector<ReportFiber> fibers;
  std::set<std::uint64_t> seen;
  for (std::size_t i = 0; i < n; ++i) {
    const EdgeInfo& e = inv.edges[i];
    if (e.fiber != 0 && !seen.insert(e.fiber).second) continue;
    const std::size_t to = (i + 1) % n;
    ReportFiber rf;
    rf.id = e.fiber;
    rf.name = e.who;
    rf.state = inv.locks[to].kind == ObjectKind::rwmutex
                   ? (e.read ? "rwmutex rlock" : "rwmutex lock")
                   : "mutex lock";
    rf.object = fmt::format("{}:{}", to_string(inv.locks[to].kind), inv.cycle[to]);
    rf.file = e.site.file_name() ? e.site.file_name() : "";
    rf.line = e.site.line();
    rf.stack = stacks[i];
    fibers.push_back(std::move(rf));
  }
  std::vector<ReportObject> objects;
  for (std::size_t i = 0; i < n; ++i) {
    objects.push_back(ReportObject{inv.cycle[i], std::string(to_string(inv.locks[i].kind)),
                                   inv.locks[i].name});
  }
  std::string extra = ",\"cycle\":[";
  auto lock_json = [&](std::size_t i) {
    std::string s = fmt::format("{{\"id\":{},\"kind\":\"{}\",\"name\":", inv.cycle[i],
                                to_string(inv.locks[i].kind));
    append_json_string(s, inv.locks[i].name);
    return s + "}";
  };
  auto site_json = [](const std::source_location& s) {
    std::string j = "{\"file\":";
    append_json_string(j, s.file_name() ? s.file_name() : "");
    return j + fmt::format(",\"line\":{}}}", s.line());
  };
  for (std::size_t i = 0; i < n; ++i) {
    const EdgeInfo& e = inv.edges[i];
    if (i) extra += ',';
    extra += "{\"from\":" + lock_json(i) + ",\"to\":" + lock_json((i + 1) % n);
    extra += fmt::format(",\"fiber\":{},\"fiber_name\":", e.fiber);
    append_json_string(extra, e.who);
    extra += fmt::format(",\"read\":{}", e.read ? "true" : "false");
    extra += ",\"site\":" + site_json(e.site) + ",\"held_site\":" + site_json(e.held_site);
    extra += ",\"stack\":";
    append_stack_json(extra, stacks[i]);
    extra += '}';
  }
  extra += ']';
  std::string cycle_text;
  for (std::size_t i = 0; i <= n; ++i) {
    cycle_text += (i ? " => " : "") + lock_text(inv.cycle[i % n], inv.locks[i % n]);
  }
  FindingsReport::instance().add(
      "lock-order-inversion", "lock-order-inversion", fibers, objects,
      "the locks are taken in opposite orders on different paths: " + cycle_text, text, extra);
}

}  // namespace

void set_lock_order_tracking(bool on) noexcept {
  g_lock_order_on.store(on, std::memory_order_relaxed);
}

void configure_lock_order() noexcept {
  const char* e = std::getenv("TETHER_LOCK_ORDER");
  const char* run = std::getenv("TETHER_UNDER_RUN");
  bool on = run && std::strcmp(run, "1") == 0;
  if (e && *e) on = std::strcmp(e, "0") != 0;
  set_lock_order_tracking(on);
}

namespace {

struct Held {
  std::uint64_t lock;
  std::source_location site;
};

// Under no lock: ctx holds the held locks whose order before `lock` this
// thread has not seen in the graph yet.
void add_edges(const SyncObject& lock, bool read, std::source_location site, Fiber* f,
               const std::vector<Held>& ctx, ThreadState& ts) {
  State& s = state();
  const std::uint64_t id = lock.object_id();
  std::vector<Inversion> found;
  {
    std::lock_guard lk(s.mu);
    if (!s.locks.count(id)) s.locks.emplace(id, LockInfo{lock.kind(), lock.object_name()});
    RawStack stack;
    bool captured = false;
    for (const Held& h : ctx) {
      // A held lock missing from `locks` was destroyed while held: it can
      // never be acquired again, so no cycle can pass through it.
      if (!s.locks.count(h.lock)) continue;
      if (s.graph.has_edge(h.lock, id) || s.refused.count({h.lock, id})) {
        ts.cache.add_pair(h.lock, id);
        continue;
      }
      if (!captured) {
        capture_current_stack(&stack);
        captured = true;
      }
      EdgeInfo e;
      e.fiber = f ? f->id : 0;
      e.who = f ? f->name : current_thread_name();
      e.read = read;
      e.site = site;
      e.held_site = h.site;
      std::size_t gap = 0, elided = 0;
      e.pcs = stack.pcs(&gap, &elided);
      if (e.pcs.size() > kEdgeFrames) e.pcs.resize(kEdgeFrames);
      if (s.graph.insert_edge(h.lock, id)) {
        s.edges.emplace(std::make_pair(h.lock, id), std::move(e));
        ts.cache.add_pair(h.lock, id);
        continue;
      }
      s.refused.insert({h.lock, id});
      ts.cache.add_pair(h.lock, id);
      // The edges already there lead from `id` back to h.lock.
      const std::vector<std::uint64_t> path = s.graph.find_path(id, h.lock, kMaxCycle);
      if (path.empty()) continue;  // longer than we report
      Inversion inv;
      inv.cycle.push_back(h.lock);
      inv.cycle.insert(inv.cycle.end(), path.begin(), path.end());
      std::vector<std::uint64_t> norm(inv.cycle.begin(), inv.cycle.end() - 1);
      std::rotate(norm.begin(), std::min_element(norm.begin(), norm.end()), norm.end());
      if (!s.reported.insert(norm).second) continue;
      inv.edges.push_back(std::move(e));
      bool complete = true;
      for (std::size_t i = 0; i + 1 < path.size(); ++i) {
        auto ei = s.edges.find({path[i], path[i + 1]});
        if (ei == s.edges.end()) {
          complete = false;
          break;
        }
        inv.edges.push_back(ei->second);
      }
      for (std::size_t i = 0; i + 1 < inv.cycle.size(); ++i) {
        auto li = s.locks.find(inv.cycle[i]);
        inv.locks.push_back(li != s.locks.end() ? li->second : LockInfo{ObjectKind::mutex, ""});
      }
      inv.cycle.pop_back();  // report() closes it
      if (complete) found.push_back(std::move(inv));
    }
  }
  for (const Inversion& inv : found) {
    s.inversions.fetch_add(1, std::memory_order_relaxed);
    report(inv);
  }
}

}  // namespace

void lock_order_before(const SyncObject& lock, bool read, std::source_location site) noexcept {
  try {
    Fiber* f = calling_fiber();
    ThreadState* ts = nullptr;
    HeldLocks* own;
    const HeldLocks* callers = nullptr;
    if (f) {
      own = f->lock_order.held.load(std::memory_order_relaxed);
      callers = f->lock_order.caller;
    } else {
      if (!(ts = thread_state())) return;
      own = &ts->held;
    }
    const std::uint64_t id = lock.object_id();
    // The common case: every pair (held, id) is already known to the graph,
    // by the entry's memo or this OS thread's cache. No lock, no allocation.
    bool unknown = false;
    for_each_held(own, callers, [&](HeldEntry& e, std::uint64_t h, bool mine) {
      if (h == id || (mine && e.known_from == h && e.known_to == id)) return true;
      if (!ts && !(ts = thread_state())) return false;
      if (ts->cache.has_pair(h, id)) {
        if (mine) {
          e.known_from = h;
          e.known_to = id;
        }
        return true;
      }
      unknown = true;
      return false;
    });
    if (!unknown) return;
    std::vector<Held> ctx;
    for_each_held(own, callers, [&](HeldEntry& e, std::uint64_t h, bool) {
      if (h != id && !ts->cache.has_pair(h, id)) ctx.push_back(Held{h, e.site});
      return true;
    });
    add_edges(lock, read, site, f, ctx, *ts);
  } catch (...) {
    // Out of memory while tracking: lose this edge, never the program.
  }
}

void lock_order_acquired(const SyncObject& lock, std::source_location site) noexcept {
  try {
    Fiber* f = calling_fiber();
    ThreadState* ts = nullptr;
    HeldLocks* own;
    if (f) {
      own = f->lock_order.held.load(std::memory_order_relaxed);
      if (!own) own = new_fiber_held(f);
    } else {
      if (!(ts = thread_state())) return;
      own = &ts->held;
    }
    const std::uint64_t id = lock.object_id();
    HeldEntry& e = own->push(id, site);
    if (e.recorded == id) return;
    // Record its kind and name for reports, once per OS thread.
    if (!ts && !(ts = thread_state())) return;
    if (!ts->cache.has_id(id)) {
      State& s = state();
      std::lock_guard lk(s.mu);
      if (!s.locks.count(id)) s.locks.emplace(id, LockInfo{lock.kind(), lock.object_name()});
      ts->cache.add_id(id);
    }
    e.recorded = id;
  } catch (...) {
  }
}

void lock_order_released(const SyncObject& lock) noexcept {
  try {
    Fiber* f = calling_fiber();
    const std::uint64_t id = lock.object_id();
    HeldLocks* own = f ? f->lock_order.held.load(std::memory_order_relaxed)
                       : (tls_state ? &tls_state->held : nullptr);
    if (own && own->pop(id)) return;
    release_anywhere(id);
  } catch (...) {
  }
}

void lock_order_forget(std::uint64_t id) noexcept {
  try {
    // Usually the destroyer held it last, if anyone did: drop it from its set
    // (a lock destroyed while another thread holds it is skipped by add_edges).
    Fiber* f = calling_fiber();
    if (HeldLocks* own = f ? f->lock_order.held.load(std::memory_order_relaxed)
                           : (tls_state ? &tls_state->held : nullptr)) {
      while (own->pop(id)) {
      }
    }
    State& s = state();
    std::lock_guard lk(s.mu);
    s.locks.erase(id);
    if (!s.graph.has_node(id)) return;
    s.graph.remove_node(id);
    for (auto it = s.edges.begin(); it != s.edges.end();) {
      it = (it->first.first == id || it->first.second == id) ? s.edges.erase(it) : std::next(it);
    }
    for (auto it = s.refused.begin(); it != s.refused.end();) {
      it = (it->first == id || it->second == id) ? s.refused.erase(it) : std::next(it);
    }
  } catch (...) {
  }
}

void lock_order_call(Fiber& call_fiber) noexcept {
  try {
    Fiber* f = calling_fiber();
    const HeldLocks* link = nullptr;
    if (f) {
      // A caller that never held a lock has no set; its own callers' still count.
      link = f->lock_order.held.load(std::memory_order_relaxed);
      if (!link) link = f->lock_order.caller;
    } else if (ThreadState* ts = thread_state()) {
      link = &ts->held;
    }
    call_fiber.lock_order.caller = link;
  } catch (...) {
  }
}

FiberLockOrder::~FiberLockOrder() { delete held.load(std::memory_order_relaxed); }

std::size_t lock_order_inversions() noexcept {
  return state().inversions.load(std::memory_order_relaxed);
}

}  // namespace tether::detail
