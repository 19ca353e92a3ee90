// Lock-order tracking: held-lock sets per logical thread, the order graph,
// and the inversion report (lock_order.h).
#include "lock_order.h"

#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

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
#include "findings_report.h"
#include "lock_order_graph.h"
#include "stack_capture.h"
#include "sync_object.h"

namespace tether::detail {

std::atomic<bool> g_lock_order_on{false};

namespace {

constexpr std::size_t kEdgeFrames = 32;  // PCs kept per edge

struct Held {
  std::uint64_t lock;
  std::source_location site;
};

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
  std::mutex mu;
  LockOrderGraph graph;
  std::unordered_map<std::uint64_t, std::vector<Held>> held;             // logical thread -> locks
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> holders;  // lock -> logical threads
  std::map<std::pair<std::uint64_t, std::uint64_t>, EdgeInfo> edges;
  std::unordered_map<std::uint64_t, LockInfo> locks;
  std::set<std::pair<std::uint64_t, std::uint64_t>> refused;  // edges that close a cycle
  std::set<std::vector<std::uint64_t>> reported;              // cycles, rotated to start at min
  std::atomic<std::size_t> inversions{0};
};

State& state() {
  static State* s = new State;  // used until the process ends (abandoned fibers unlock late)
  return *s;
}

std::uint64_t self_key(Fiber* f) {
  if (f) return f->id;
  return (std::uint64_t{1} << 63) | static_cast<std::uint64_t>(::syscall(SYS_gettid));
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

void lock_order_before(const SyncObject& lock, bool read, std::source_location site) noexcept {
  try {
    State& s = state();
    Fiber* f = current_fiber();
    const std::uint64_t key = self_key(f);
    const std::uint64_t id = lock.object_id();
    std::vector<Inversion> found;
    {
      std::lock_guard lk(s.mu);
      // The locks this logical thread holds: its own, and for a call()
      // fiber its caller's (which waits for it, holding them).
      std::vector<Held> ctx;
      if (f && f->is_call && f->parent != 0) {
        auto p = s.held.find(f->parent);
        if (p != s.held.end()) ctx = p->second;
      }
      auto it = s.held.find(key);
      if (it != s.held.end()) ctx.insert(ctx.end(), it->second.begin(), it->second.end());
      if (ctx.empty()) return;
      if (!s.locks.count(id)) s.locks.emplace(id, LockInfo{lock.kind(), lock.object_name()});
      RawStack stack;
      bool captured = false;
      for (const Held& h : ctx) {
        if (h.lock == id || s.graph.has_edge(h.lock, id) || s.refused.count({h.lock, id})) continue;
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
          continue;
        }
        s.refused.insert({h.lock, id});
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
      state().inversions.fetch_add(1, std::memory_order_relaxed);
      report(inv);
    }
  } catch (...) {
    // Out of memory while tracking: lose this edge, never the program.
  }
}

void lock_order_acquired(const SyncObject& lock, std::source_location site) noexcept {
  try {
    State& s = state();
    const std::uint64_t key = self_key(current_fiber());
    const std::uint64_t id = lock.object_id();
    std::lock_guard lk(s.mu);
    s.held[key].push_back(Held{id, site});
    s.holders[id].push_back(key);
    if (!s.locks.count(id)) s.locks.emplace(id, LockInfo{lock.kind(), lock.object_name()});
  } catch (...) {
  }
}

void lock_order_released(const SyncObject& lock) noexcept {
  try {
    State& s = state();
    const std::uint64_t key = self_key(current_fiber());
    const std::uint64_t id = lock.object_id();
    std::lock_guard lk(s.mu);
    auto hit = s.holders.find(id);
    if (hit == s.holders.end()) return;  // taken before tracking was on
    auto& hs = hit->second;
    // Usually the releaser holds it; Go lets anyone unlock: then the oldest holder.
    auto who = std::find(hs.begin(), hs.end(), key);
    if (who == hs.end()) who = hs.begin();
    const std::uint64_t holder = *who;
    hs.erase(who);
    if (hs.empty()) s.holders.erase(hit);
    auto h = s.held.find(holder);
    if (h == s.held.end()) return;
    auto& v = h->second;
    for (auto i = v.rbegin(); i != v.rend(); ++i) {
      if (i->lock == id) {
        v.erase(std::next(i).base());
        break;
      }
    }
    if (v.empty()) s.held.erase(h);
  } catch (...) {
  }
}

void lock_order_forget(std::uint64_t id) noexcept {
  try {
    State& s = state();
    std::lock_guard lk(s.mu);
    s.locks.erase(id);
    if (auto hit = s.holders.find(id); hit != s.holders.end()) {
      for (std::uint64_t holder : hit->second) {
        auto h = s.held.find(holder);
        if (h == s.held.end()) continue;
        auto& v = h->second;
        v.erase(std::remove_if(v.begin(), v.end(), [&](const Held& x) { return x.lock == id; }),
                v.end());
        if (v.empty()) s.held.erase(h);
      }
      s.holders.erase(hit);
    }
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

std::size_t lock_order_inversions() noexcept {
  return state().inversions.load(std::memory_order_relaxed);
}

}  // namespace tether::detail
