// Analyzer: sorts the events by time, replays them once, and runs the
// analyses (runtime's detector, lock order, occupancy, profile) on the way.
#include "tether/trace/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include "chrome_export.h"
#include "deadlock_detector.h"  // tether_wait_model
#include "lock_order.h"
#include "occupancy.h"
#include "profile.h"
#include "replay.h"
#include "tether/graph/snapshot_reader.h"

namespace tether::trace {

namespace td = tether::detail;
using detail::FiberState;
using detail::Rec;
using detail::State;
using detail::Tables;

std::optional<std::int64_t> parse_time(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return std::nullopt;
  std::size_t n = 0;
  while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
  if (n == 0) return std::nullopt;
  const std::string num(s.substr(0, n));
  const std::string_view unit = s.substr(n);
  double scale = 1;
  if (unit.empty() || unit == "ns")
    scale = 1;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "s")
    scale = 1e9;
  else
    return std::nullopt;
  if (num.find('.') == std::string::npos && scale == 1) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(num.c_str(), &end, 10);
    if (errno || *end) return std::nullopt;
    return v;
  }
  if (std::count(num.begin(), num.end(), '.') > 1 || num == ".") return std::nullopt;
  const double v = std::strtod(num.c_str(), nullptr) * scale;
  if (!std::isfinite(v) || v > 9.2e18) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(v));
}

struct Analyzer::Impl {
  AnalysisOptions options;
  Tables tables;
  std::vector<Rec> recs;
  TraceStats stats;
  bool finished = false;
};

Analyzer::Analyzer(AnalysisOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}
Analyzer::~Analyzer() = default;

void Analyzer::add(const Event& e) {
  Impl& m = *impl_;
  if (m.stats.events == 0 || e.time_ns < m.stats.start_ns) m.stats.start_ns = e.time_ns;
  if (m.stats.events == 0 || e.time_ns > m.stats.end_ns) m.stats.end_ns = e.time_ns;
  ++m.stats.events;
  switch (e.type) {
    case EventType::site:
      m.tables.define_site(e.id, e);
      return;
    case EventType::stack:
      m.tables.define_stack(e.id, e.frames);
      return;
    case EventType::end:
      m.stats.clean_end = true;
      m.stats.exit_status = e.a;
      break;
    case EventType::lost:
      m.stats.lost += static_cast<std::uint64_t>(std::max<std::int64_t>(0, e.a));
      break;
    default:
      break;
  }
  m.recs.push_back(detail::compact(e, m.tables, static_cast<std::uint32_t>(m.recs.size())));
}

namespace {

FiberInfo fiber_info(const td::WaitGraph& g, std::uint64_t id) {
  FiberInfo fi;
  fi.id = id;
  const td::FiberNode* f = g.fiber(id);
  if (!f) return fi;
  fi.name = f->name;
  fi.state = std::string(to_string(f->reason));
  if (f->reason == WaitReason::syscall && f->thread) {
    fi.object = td::node_id("syscall", f->thread);
  } else if (f->reason == WaitReason::join && f->object_id) {
    fi.object = td::node_id("fiber", f->object_id);
  } else if ((f->reason == WaitReason::waiting_for_thread || f->reason == WaitReason::call) &&
             f->object_id) {
    fi.object = td::node_id("thread", f->object_id);
  } else if (const td::ObjectNode* o = f->object_id ? g.object(f->object_id) : nullptr) {
    fi.object = td::object_node_id(*o);
  }
  fi.since_ns = f->since_ns;
  fi.site =
      SourceSite{f->site.function_name(), f->site.file_name(), static_cast<int>(f->site.line())};
  fi.created_at = SourceSite{f->created_at.function_name(), f->created_at.file_name(),
                             static_cast<int>(f->created_at.line())};
  fi.locked_to = f->locked_to;
  for (const td::StackFrame& s : f->stack)
    fi.stack.push_back(Frame{s.function, s.file, s.line, s.pc});
  return fi;
}

// The objects and threads a set of nodes names.
void fill_nodes(const td::WaitGraph& g, const std::vector<std::string>& nodes, Finding& out) {
  std::set<std::uint64_t> objs, threads;
  for (const std::string& n : nodes) {
    const auto colon = n.find(':');
    if (colon == std::string::npos) continue;
    const std::string kind = n.substr(0, colon);
    const std::uint64_t id = std::strtoull(n.c_str() + colon + 1, nullptr, 10);
    if (kind == "fiber") continue;
    if (kind == "thread" || kind == "syscall") {
      threads.insert(id);
    } else {
      objs.insert(id);
    }
  }
  for (const FiberInfo& f : out.fibers) {
    if (f.locked_to) threads.insert(f.locked_to);
    const auto colon = f.object.find(':');
    if (colon != std::string::npos && f.object.rfind("fiber", 0) != 0 &&
        f.object.rfind("thread", 0) != 0 && f.object.rfind("syscall", 0) != 0)
      objs.insert(std::strtoull(f.object.c_str() + colon + 1, nullptr, 10));
  }
  for (std::uint64_t id : objs) {
    const td::ObjectNode* o = g.object(id);
    if (!o) continue;
    out.objects.push_back(ObjectInfo{id, std::string(td::to_string(o->kind)), o->name});
  }
  for (std::uint64_t id : threads) {
    const td::ThreadNode* t = g.thread(id);
    out.threads.push_back(ThreadInfo{id, t ? t->name : std::string()});
  }
}

Finding deadlock_finding(const td::WaitGraph& g, const td::Deadlock& d, std::string kind) {
  Finding f;
  f.kind = std::move(kind);
  f.pattern = d.kind;
  f.time_ns = g.time_ns;
  for (std::uint64_t id : d.fibers) f.fibers.push_back(fiber_info(g, id));
  f.nodes = d.nodes;
  fill_nodes(g, d.nodes, f);
  f.explanation = d.explanation;
  if (d.kind == "global") {
    f.message = "all fibers are asleep - deadlock!";
    f.text = "fatal error: all fibers are asleep - deadlock!";
  } else {
    f.text = "tether: " + td::describe_deadlock(g, d);
    f.message = f.text.substr(0, f.text.find('\n'));
  }
  if (!f.fibers.empty()) f.location = f.fibers.front().site;
  return f;
}

std::string object_label(const State& s, const Tables& t, std::uint64_t id) {
  const detail::ObjectState* o = s.object(id);
  if (!o) return fmt::format("lock {}", id);
  const std::string& name = t.str(o->name);
  const std::string_view kind = td::to_string(o->kind);
  return name.empty() ? fmt::format("{} {}", kind, id)
                      : fmt::format("{} {} \"{}\"", kind, id, name);
}

std::string site_text(const SourceSite& s) {
  if (s.file.empty()) return "an unknown site";
  return fmt::format("{}:{}", s.file, s.line);
}

std::string stack_text(const std::vector<Frame>& frames, const char* indent) {
  std::string out;
  for (const Frame& fr : frames)
    out += fmt::format("\n{}{}  {}:{}", indent, fr.function.empty() ? "?" : fr.function, fr.file,
                       fr.line);
  return out;
}

Finding lock_order_finding(const State& s, const Tables& t,
                           const std::vector<LockOrderEdge>& cycle) {
  Finding f;
  f.kind = f.pattern = "lock-order-inversion";
  f.lock_edges = cycle;
  std::string chain;
  std::set<std::uint64_t> fibers;
  for (const LockOrderEdge& e : cycle) {
    chain += object_label(s, t, e.held) + " => ";
    const auto* o = s.object(e.held);
    f.objects.push_back(ObjectInfo{e.held, o ? std::string(td::to_string(o->kind)) : "mutex",
                                   o ? t.str(o->name) : std::string()});
    f.nodes.push_back(td::node_id(o ? td::to_string(o->kind) : "mutex", e.held));
    fibers.insert(e.fiber);
    f.time_ns = std::max(f.time_ns, e.time_ns);
  }
  chain += object_label(s, t, cycle.front().held);
  for (std::uint64_t id : fibers) {
    FiberInfo fi;
    fi.id = id;
    if (const FiberState* fs = s.fiber(id)) {
      fi.name = t.str(fs->name);
      fi.created_at = t.site(fs->created_site);
    }
    f.fibers.push_back(std::move(fi));
  }
  f.message = "potential deadlock: lock-order inversion: " + chain;
  f.text =
      "tether: potential deadlock: lock-order inversion\n  Cycle in lock order graph: " + chain;
  for (const LockOrderEdge& e : cycle) {
    const FiberState* fs = s.fiber(e.fiber);
    const std::string who = fs && fs->name
                                ? fmt::format("fiber {} \"{}\"", e.fiber, t.str(fs->name))
                                : fmt::format("fiber {}", e.fiber);
    f.text += fmt::format("\n  {} acquired at {} while holding {} (acquired at {}) by {}",
                          object_label(s, t, e.acquired), site_text(e.acquired_site),
                          object_label(s, t, e.held), site_text(e.held_site), who);
    if (!e.acquired_stack.empty()) f.text += stack_text(e.acquired_stack, "      ");
  }
  f.explanation =
      "the locks are taken in opposite orders by different code paths; run at the "
      "wrong moment, each side holds one and waits for the other";
  f.location = cycle.front().acquired_site;
  return f;
}

}  // namespace

AnalysisResult Analyzer::finish() {
  Impl& m = *impl_;
  AnalysisResult res;
  if (m.finished) return res;
  m.finished = true;
  res.stats = m.stats;
  std::sort(m.recs.begin(), m.recs.end(), [](const Rec& a, const Rec& b) {
    return a.time != b.time ? a.time < b.time : a.seq < b.seq;
  });

  State st(m.tables);
  detail::LockOrder lock_order(m.tables);
  detail::OccupancyTracker occupancy(m.tables, std::max<std::size_t>(1, m.options.occupancy_top));
  occupancy.set_stall_limit(m.options.stall_ns);
  detail::ProfileBuilder profile(m.tables);
  const std::int64_t end = m.stats.end_ns;
  const bool explicit_at = m.options.at_ns.has_value();
  const std::int64_t at = explicit_at ? m.stats.start_ns + *m.options.at_ns : end;

  std::optional<td::WaitGraph> at_graph, before_exit;
  for (const Rec& r : m.recs) {
    if (explicit_at && !at_graph && r.time > at) at_graph = st.wait_graph(at);
    // The main fiber returning ends the program: judge deadlocks just before
    // (afterwards every blocked fiber is a leak, as the runtime says at exit).
    if (!explicit_at && !before_exit && r.type == EventType::fiber_exit && r.fiber == 1)
      before_exit = st.wait_graph(r.time);
    if (r.fiber == 0 && r.type == EventType::unpark) {  // a plain thread's wait ends
      if (const detail::ThreadState* t = st.thread(r.thread))
        profile.plain_wait_ended(t->plain_wait, r.time);
    }
    const FiberState* f = st.fiber(r.fiber);
    std::optional<FiberState> prior;
    if (f) prior = *f;
    st.apply(r);
    if (prior) {
      const FiberState* after = st.fiber(r.fiber);
      if (after && after->version != prior->version) profile.transition(*prior, r.time);
    }
    occupancy.apply(r, st);
    lock_order.apply(r);
    if (r.type == EventType::misuse) {
      Finding fd;
      fd.kind = fd.pattern = "misuse";
      fd.time_ns = r.time;
      fd.message = m.tables.str(r.text);
      fd.text = "tether: misuse: " + fd.message;
      fd.location = m.tables.site(r.site);
      if (r.fiber) {
        FiberInfo fi;
        fi.id = r.fiber;
        if (const FiberState* fs = st.fiber(r.fiber)) fi.name = m.tables.str(fs->name);
        fi.site = fd.location;
        fd.fibers.push_back(std::move(fi));
      }
      res.findings.push_back(std::move(fd));  // reordered below
    } else if (r.type == EventType::finding) {
      Finding fd;
      fd.kind = m.tables.str(r.kind);
      fd.pattern = m.tables.str(r.text);
      fd.time_ns = r.time;
      for (std::uint64_t id : m.tables.fiber_list(static_cast<std::uint32_t>(r.other))) {
        FiberInfo fi;
        fi.id = id;
        fd.fibers.push_back(std::move(fi));
      }
      res.online.push_back(std::move(fd));
    }
  }
  const td::WaitGraph end_graph = st.wait_graph(end);
  res.stats.fibers = st.fibers().size();
  res.stats.threads = st.threads().size();
  res.stats.objects = st.objects().size();

  // Deadlocks: the runtime's detector on the replayed state. Like the
  // watchdog, believe a deadlock only if it is still there, unchanged, later
  // (here: at the end of the trace).
  td::WaitGraph g = explicit_at && at_graph ? std::move(*at_graph)
                    : before_exit           ? std::move(*before_exit)
                                            : end_graph;
  if (explicit_at && !at_graph) g.time_ns = std::min(at, end);
  res.at_ns = g.time_ns - m.stats.start_ns;
  const td::DeadlockFinding found = td::find_deadlocks(g);
  auto unchanged = [&](const td::Deadlock& d) {
    for (std::uint64_t id : d.fibers) {
      const td::FiberNode* a = g.fiber(id);
      const td::FiberNode* b = end_graph.fiber(id);
      if (!a || !b || a->version != b->version) return false;
    }
    return true;
  };
  std::vector<Finding> deadlocks;
  bool all_confirmed = !found.deadlocks.empty();
  for (const td::Deadlock& d : found.deadlocks) {
    if (!unchanged(d)) {
      all_confirmed = false;
      continue;
    }
    g.deadlocks.push_back(d);
    deadlocks.push_back(deadlock_finding(g, d, "deadlock"));
  }
  if (found.global && all_confirmed) {
    td::Deadlock all;
    all.kind = "global";
    all.fibers = found.deadlocked;
    all.explanation = "all fibers are asleep";
    g.deadlocks.insert(g.deadlocks.begin(), all);
    deadlocks.insert(deadlocks.begin(), deadlock_finding(g, all, "deadlock"));
  }

  std::vector<Finding> findings = std::move(deadlocks);
  // Leaks: fibers blocked forever when the program ended cleanly.
  const FiberState* main_fiber = st.fiber(1);
  const bool ended = m.stats.clean_end || (main_fiber && main_fiber->exited);
  if (m.options.leaks && ended && !explicit_at) {
    const td::DeadlockFinding leaked = td::find_deadlocks(end_graph);
    if (!leaked.deadlocked.empty()) {
      td::Deadlock d;
      d.kind = "orphan-wait";
      d.fibers = leaked.deadlocked;
      d.explanation = "blocked forever when fiber 1 returned";
      Finding f = deadlock_finding(end_graph, d, "leak");
      f.message = fmt::format("{} fiber{} leaked: blocked forever when fiber 1 returned",
                              d.fibers.size(), d.fibers.size() == 1 ? "" : "s");
      f.text = "tether: " + f.message + ":";
      for (const FiberInfo& fi : f.fibers) {
        f.text +=
            fmt::format("\n  {} [{}]{} at {}, created at {}",
                        td::describe_node(end_graph, td::node_id("fiber", fi.id)), fi.state,
                        fi.object.empty() ? std::string()
                                          : " waits for " + td::describe_node(end_graph, fi.object),
                        site_text(fi.site), site_text(fi.created_at));
      }
      findings.push_back(std::move(f));
    }
  }
  for (const auto& cycle : lock_order.cycles())
    findings.push_back(lock_order_finding(st, m.tables, cycle));

  res.occupancies = occupancy.finish(end, st);
  for (const Occupancy& o : occupancy.stalls()) {
    Finding f;
    f.kind = f.pattern = "stall";
    f.time_ns = o.start_ns + o.duration_ns;
    FiberInfo fi;
    fi.id = o.fiber;
    if (const FiberState* fs = st.fiber(o.fiber)) fi.name = m.tables.str(fs->name);
    fi.site = o.site;
    f.fibers.push_back(std::move(fi));
    f.threads.push_back(ThreadInfo{o.thread, o.thread_name});
    f.nodes.push_back(td::node_id("thread", o.thread));
    f.message = fmt::format(
        "stall: fiber {} held thread \"{}\" {} for {} ms while up to {} fiber{} "
        "waited to run there",
        o.fiber, o.thread_name, o.what == "running without yielding" ? o.what : "in " + o.what,
        o.duration_ns / 1'000'000, o.waiting, o.waiting == 1 ? "" : "s");
    f.text = "tether: " + f.message;
    f.explanation = "a shared thread is held while other fibers wait for it";
    f.location = o.site;
    findings.push_back(std::move(f));
  }
  for (Finding& f : res.findings) findings.push_back(std::move(f));  // misuse, in time order
  res.findings = std::move(findings);
  res.profile = profile.finish(end, st);

  // The graph at that time, through the snapshot format, so `tether viz`
  // draws a trace exactly as it draws a live snapshot.
  g.pid = 0;
  try {
    res.graph = graph::parse_snapshot(td::to_json(g), "trace");
  } catch (const std::exception&) {
    res.graph = graph::Snapshot{};  // cannot happen for a graph to_json wrote; stay usable
  }
  res.graph.time_ns = g.time_ns;
  return res;
}

std::string Analyzer::chrome_json(const AnalysisResult& r) const {
  return detail::chrome_trace_json(impl_->recs, impl_->tables, r);
}

AnalysisResult analyze(const std::vector<Event>& events, const AnalysisOptions& options) {
  Analyzer a(options);
  for (const Event& e : events) a.add(e);
  return a.finish();
}

}  // namespace tether::trace
