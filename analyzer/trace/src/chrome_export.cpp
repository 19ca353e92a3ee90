// Chrome Trace Event JSON export.
#include "chrome_export.h"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>

namespace tether::trace::detail {
namespace {

void json_string(std::string& out, std::string_view s) {
  tether::detail::append_json_string(out, s);
}

// Nanoseconds as microseconds, exactly (three decimals).
std::string us(std::int64_t d) {
  if (d < 0) d = 0;
  return fmt::format("{}.{:03}", d / 1000, d % 1000);
}
std::string ts(std::int64_t ns, std::int64_t start) {
  return us(ns - start);
}

class Writer {
 public:
  Writer(const Tables& t, std::int64_t start) : t_(t), start_(start) {}

  std::string out;
  void event_sep() {
    if (!first_) out += ",\n";
    first_ = false;
  }
  void slice(const State& s, const FiberState& f, std::int64_t end) {
    if (f.reason == WaitReason::runnable || f.reason == WaitReason::dead || f.exited) return;
    const std::uint64_t pid = track(f);
    std::string name;
    if (f.reason == WaitReason::running) {
      name = "running";
    } else if (f.reason == WaitReason::syscall) {
      name = fmt::format("syscall {}({})", t_.str(f.syscall),
                         f.fd >= 0 ? "fd " + std::to_string(f.fd) : std::string());
    } else {
      name = std::string(to_string(f.reason));
      const std::string node = waited_node(s, f);
      if (!node.empty()) {
        name += " " + node;
        const auto colon = node.find(':');
        const std::uint64_t id = std::strtoull(node.c_str() + colon + 1, nullptr, 10);
        if (const ObjectState* o = node.rfind("fiber", 0) == 0 ? nullptr : s.object(id)) {
          if (o->name) name += " \"" + t_.str(o->name) + "\"";
        }
      }
    }
    event_sep();
    out += "{\"ph\":\"X\",\"name\":";
    json_string(out, name);
    out += fmt::format(",\"cat\":\"{}\",\"pid\":{},\"tid\":{},\"ts\":{},\"dur\":{}",
                       f.reason == WaitReason::running ? "run" : "wait", pid, f.id,
                       ts(f.since, start_), us(end - f.since));
    const SourceSite& site = t_.site(f.site);
    if (f.reason != WaitReason::running && !site.file.empty()) {
      out += ",\"args\":{\"site\":";
      json_string(out, fmt::format("{}:{}", site.file, site.line));
      out += '}';
    }
    out += '}';
  }
  // A plain thread's wait (park and unpark of fiber 0) on the "plain
  // threads" process, one track per thread: they are no fibers.
  static constexpr std::uint64_t kPlainPid = 2;
  void plain_slice(const State& s, const ThreadState& t, const ThreadState::PlainWait& w,
                   std::int64_t end) {
    std::string name(to_string(w.reason));
    if (const ObjectState* o = w.object ? s.object(w.object) : nullptr) {
      name += " " + tether::detail::node_id(tether::detail::to_string(o->kind), o->id);
      if (o->name) name += " \"" + t_.str(o->name) + "\"";
    }
    event_sep();
    out += "{\"ph\":\"X\",\"name\":";
    json_string(out, name);
    out += fmt::format(",\"cat\":\"wait\",\"pid\":{},\"tid\":{},\"ts\":{},\"dur\":{}", kPlainPid,
                       t.id, ts(w.since, start_), us(end - w.since));
    const SourceSite& site = t_.site(w.site);
    if (!site.file.empty()) {
      out += ",\"args\":{\"site\":";
      json_string(out, fmt::format("{}:{}", site.file, site.line));
      out += '}';
    }
    out += '}';
    plain_threads_.insert(t.id);
  }
  const std::set<std::uint64_t>& plain_threads() const { return plain_threads_; }

  std::uint64_t track(const FiberState& f) {
    auto it = pid_.find(f.id);
    if (it != pid_.end()) return it->second;
    const std::uint64_t pid = f.locked_to ? 1000 + f.locked_to : 1;
    pid_.emplace(f.id, pid);
    return pid;
  }
  void flow_start(std::uint64_t id, std::uint64_t waker_pid, std::uint64_t waker, std::int64_t t) {
    event_sep();
    out += fmt::format(
        "{{\"ph\":\"s\",\"name\":\"wake\",\"cat\":\"wake\",\"id\":{},\"pid\":{},\"tid\":{},\"ts\":{"
        "}}}",
        id, waker_pid, waker, ts(t, start_));
  }
  void flow_end(std::uint64_t id, std::uint64_t pid, std::uint64_t fiber, std::int64_t t) {
    event_sep();
    out += fmt::format(
        "{{\"ph\":\"f\",\"bp\":\"e\",\"name\":\"wake\",\"cat\":\"wake\",\"id\":{},\"pid\":{},"
        "\"tid\":{},"
        "\"ts\":{}}}",
        id, pid, fiber, ts(t, start_));
  }
  const std::map<std::uint64_t, std::uint64_t>& tracks() const { return pid_; }

 private:
  const Tables& t_;
  std::int64_t start_;
  bool first_ = true;
  std::map<std::uint64_t, std::uint64_t> pid_;  // fiber -> pid
  std::set<std::uint64_t> plain_threads_;       // threads with a plain_slice
};

}  // namespace

std::string chrome_trace_json(const std::vector<Rec>& recs, const Tables& tables,
                              const AnalysisResult& result) {
  const std::int64_t start = result.stats.start_ns;
  const std::int64_t end = result.stats.end_ns;
  Writer w(tables, start);
  w.out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  State st(tables);
  std::map<std::uint64_t, std::uint64_t> pending_flow;  // woken fiber -> flow id
  std::uint64_t next_flow = 1;
  for (const Rec& r : recs) {
    const FiberState* f = st.fiber(r.fiber);
    std::optional<FiberState> prior;
    if (f) prior = *f;
    // The previous occupant of a thread that switches without a park.
    std::optional<FiberState> displaced;
    if (r.type == EventType::run) {
      if (const ThreadState* t = st.thread(r.thread); t && t->running && t->running != r.fiber) {
        if (const FiberState* d = st.fiber(t->running)) displaced = *d;
      }
    }
    std::optional<ThreadState::PlainWait> plain_before;
    if (r.fiber == 0) {
      if (const ThreadState* t = st.thread(r.thread)) plain_before = t->plain_wait;
    }
    st.apply(r);
    if (plain_before && plain_before->reason != WaitReason::running) {
      const ThreadState* t = st.thread(r.thread);
      if (t && (t->plain_wait.reason == WaitReason::running ||
                t->plain_wait.since != plain_before->since))
        w.plain_slice(st, *t, *plain_before, r.time);
    }
    // A fiber's track is chosen at its first slice (or flow), when it is
    // already locked to its thread (the main fiber's thread_lock follows its
    // creation).
    const FiberState* after = st.fiber(r.fiber);
    if (prior && after && after->version != prior->version) w.slice(st, *prior, r.time);
    if (displaced) {
      const FiberState* d = st.fiber(displaced->id);
      if (d && d->version != displaced->version) w.slice(st, *displaced, r.time);
    }
    if (r.type == EventType::unpark && r.other) {
      if (const FiberState* waker = st.fiber(r.other)) {
        const std::uint64_t id = next_flow++;
        w.flow_start(id, w.track(*waker), r.other, r.time);
        pending_flow[r.fiber] = id;
      }
    } else if (r.type == EventType::run) {
      auto it = pending_flow.find(r.fiber);
      if (it != pending_flow.end() && after) {
        w.flow_end(it->second, w.track(*after), r.fiber, r.time);
        pending_flow.erase(it);
      }
    }
  }
  for (const auto& [id, f] : st.fibers()) {
    (void)id;
    if (!f.exited) w.slice(st, f, end);
  }
  for (const auto& [id, t] : st.threads()) {
    (void)id;
    if (t.plain_wait.reason != WaitReason::running) w.plain_slice(st, t, t.plain_wait, end);
  }
  // Flows whose fiber never ran again end where they started (a dangling
  // flow start is a structural error for some viewers).
  for (const auto& [fiber, id] : pending_flow) {
    if (const FiberState* f = st.fiber(fiber)) w.flow_end(id, w.track(*f), fiber, end);
  }
  for (const Finding& fd : result.findings) {
    w.event_sep();
    w.out += "{\"ph\":\"i\",\"s\":\"g\",\"pid\":1,\"tid\":0,\"name\":";
    json_string(w.out, fd.kind + " (" + fd.pattern + ")");
    w.out +=
        fmt::format(",\"ts\":{},\"args\":{{\"message\":", ts(std::max(fd.time_ns, start), start));
    json_string(w.out, fd.message);
    w.out += "}}";
  }
  // Names: processes (threads, the pool) and tracks (fibers).
  std::map<std::uint64_t, bool> pids;
  for (const auto& [fiber, pid] : w.tracks()) pids[pid] = true;
  pids[1] = true;
  for (const auto& [pid, unused] : pids) {
    (void)unused;
    std::string name = "pool";
    if (pid != 1) {
      const ThreadState* t = st.thread(pid - 1000);
      name = t && t->name ? fmt::format("thread \"{}\"", tables.str(t->name))
                          : fmt::format("thread {}", pid - 1000);
    }
    w.event_sep();
    w.out += fmt::format(
        "{{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":{},\"tid\":0,\"args\":{{\"name\":", pid);
    json_string(w.out, name);
    w.out += "}}";
  }
  for (const auto& [fiber, pid] : w.tracks()) {
    const FiberState* f = st.fiber(fiber);
    const std::string name = f && f->name
                                 ? fmt::format("fiber {} \"{}\"", fiber, tables.str(f->name))
                                 : fmt::format("fiber {}", fiber);
    w.event_sep();
    w.out += fmt::format(
        "{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":{},\"tid\":{},\"args\":{{\"name\":", pid,
        fiber);
    json_string(w.out, name);
    w.out += "}}";
  }
  if (!w.plain_threads().empty()) {
    w.event_sep();
    w.out += fmt::format(
        "{{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":{},\"tid\":0,\"args\":{{\"name\":"
        "\"plain threads\"}}}}",
        Writer::kPlainPid);
  }
  for (std::uint64_t id : w.plain_threads()) {
    const ThreadState* t = st.thread(id);
    w.event_sep();
    w.out += fmt::format(
        "{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":{},\"tid\":{},\"args\":{{\"name\":",
        Writer::kPlainPid, id);
    json_string(w.out, t && t->name ? tables.str(t->name) : fmt::format("thread {}", id));
    w.out += "}}";
  }
  w.out += "\n]}\n";
  return w.out;
}

}  // namespace tether::trace::detail
