// to_json(WaitGraph): the snapshot format of docs/snapshot-format.md.
#include <fmt/format.h>

#include "wait_graph.h"

namespace tether::detail {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

namespace {

void put_string(std::string& out, std::string_view s) { append_json_string(out, s); }

void put_opt(std::string& out, std::uint64_t v) {
  out += v ? std::to_string(v) : "null";
}

void put_loc(std::string& out, const SiteRef& l) {
  out += "{\"file\":";
  put_string(out, l.file_name() ? l.file_name() : "");
  out += fmt::format(",\"line\":{},\"function\":", l.line());
  put_string(out, l.function_name() ? l.function_name() : "");
  out += '}';
}

void put_ids(std::string& out, const std::vector<std::uint64_t>& ids) {
  out += '[';
  bool first = true;
  for (std::uint64_t id : ids) {
    if (id == 0 || is_plain_thread_id(id)) continue;  // fibers only (plain_*: put_plain())
    if (!first) out += ',';
    first = false;
    out += std::to_string(id);
  }
  out += ']';
}

// `,"KEY":[N, ...]`: the plain threads (by number) among ids; nothing if none.
void put_plain(std::string& out, std::string_view key, const std::vector<std::uint64_t>& ids) {
  bool first = true;
  for (std::uint64_t id : ids) {
    if (!is_plain_thread_id(id)) continue;
    out += first ? fmt::format(",\"{}\":[", key) : ",";
    first = false;
    out += std::to_string(plain_thread_number(id));
  }
  if (!first) out += ']';
}

// `,"KEY":N` if id is plain thread N (a lock's holder); nothing otherwise.
void put_plain_one(std::string& out, std::string_view key, std::uint64_t id) {
  if (is_plain_thread_id(id)) out += fmt::format(",\"{}\":{}", key, plain_thread_number(id));
}

}  // namespace

std::string to_json(const WaitGraph& g) {
  std::string out;
  out.reserve(4096 + g.fibers.size() * 256);
  out += "{\"format\":\"tether-snapshot\",\"version\":1";
  out += fmt::format(",\"pid\":{},\"program\":", g.pid);
  put_string(out, g.program);
  out += fmt::format(",\"time_ns\":{},\n\"threads\":[", g.time_ns);
  for (std::size_t i = 0; i < g.threads.size(); ++i) {
    const ThreadNode& t = g.threads[i];
    if (i) out += ",\n";
    out += fmt::format("{{\"id\":{},\"name\":", t.id);
    put_string(out, t.name);
    out += fmt::format(",\"kind\":\"{}\",\"tid\":{},\"running\":", t.kind, t.tid);
    put_opt(out, t.running);
    out += ",\"syscall\":";
    const FiberNode* sys = nullptr;
    for (const FiberNode& f : g.fibers)
      if (f.reason == WaitReason::syscall && f.thread == t.id) sys = &f;
    if (sys) {
      out += fmt::format("{{\"fiber\":{},\"call\":", sys->id);
      put_string(out, sys->syscall);
      out += ",\"fd\":" + (sys->fd >= 0 ? std::to_string(sys->fd) : std::string("null"));
      out += ",\"peer_fd\":" + (sys->peer_fd >= 0 ? std::to_string(sys->peer_fd) : std::string("null"));
      out += fmt::format(",\"since_ns\":{}}}", sys->since_ns);
    } else {
      out += "null";
    }
    out += '}';
  }
  out += "],\n\"fibers\":[";
  for (std::size_t i = 0; i < g.fibers.size(); ++i) {
    const FiberNode& f = g.fibers[i];
    if (i) out += ",\n";
    out += fmt::format("{{\"id\":{},\"name\":", f.id);
    put_string(out, f.name);
    out += ",\"state\":";
    put_string(out, to_string(f.reason));
    out += ",\"object\":";
    const ObjectNode* o = waits_on_object(f.reason) && f.object_id ? g.object(f.object_id) : nullptr;
    if (o && o->kind != ObjectKind::locker) {
      put_string(out, object_node_id(*o));
    } else if (f.reason == WaitReason::join && g.fiber(f.object_id)) {
      put_string(out, node_id("fiber", f.object_id));
    } else if ((f.reason == WaitReason::waiting_for_thread || f.reason == WaitReason::call) &&
               g.thread(f.object_id)) {
      put_string(out, node_id("thread", f.object_id));
    } else {
      out += "null";
    }
    out += fmt::format(",\"since_ns\":{},\"site\":", f.since_ns);
    put_loc(out, f.site);
    out += ",\"created_at\":";
    put_loc(out, f.created_at);
    out += ",\"parent\":";
    put_opt(out, g.fiber(f.parent) ? f.parent : 0);
    out += ",\"locked_to\":";
    put_opt(out, g.thread(f.locked_to) ? f.locked_to : 0);
    out += ",\"thread\":";
    put_opt(out, g.thread(f.thread) ? f.thread : 0);
    out += ",\"stack\":[";
    for (std::size_t k = 0; k < f.stack.size(); ++k) {
      if (k) out += ',';
      out += "{\"file\":";
      put_string(out, f.stack[k].file);
      out += fmt::format(",\"line\":{},\"function\":", f.stack[k].line);
      put_string(out, f.stack[k].function);
      out += '}';
    }
    out += "]}";
  }
  out += "],\n\"objects\":[";
  bool first = true;
  for (const ObjectNode& o : g.objects) {
    if (o.kind == ObjectKind::locker) continue;  // lockers are threads
    if (!first) out += ",\n";
    first = false;
    out += fmt::format("{{\"id\":{},\"kind\":\"{}\",\"name\":", o.id, to_string(o.kind));
    put_string(out, o.name);
    out += ",\"created_at\":";
    put_loc(out, o.created_at);
    switch (o.kind) {
      case ObjectKind::chan:
        out += fmt::format(",\"capacity\":{},\"size\":{},\"closed\":{},\"senders\":", o.state.capacity,
                           o.state.size, o.state.closed ? "true" : "false");
        put_ids(out, o.state.senders);
        out += ",\"receivers\":";
        put_ids(out, o.state.receivers);
        put_plain(out, "plain_senders", o.state.senders);
        put_plain(out, "plain_receivers", o.state.receivers);
        break;
      case ObjectKind::mutex: {
        // A plain thread holding it: "holder" stays a fiber id (null), the
        // thread's number goes in "plain_holder" (optional, as plain_senders).
        const std::uint64_t h = o.state.holders.empty() ? 0 : o.state.holders.front();
        out += ",\"holder\":";
        put_opt(out, is_plain_thread_id(h) ? 0 : h);
        put_plain_one(out, "plain_holder", h);
        break;
      }
      case ObjectKind::rwmutex: {
        out += ",\"writer\":";
        put_opt(out, is_plain_thread_id(o.state.writer) ? 0 : o.state.writer);
        std::vector<std::uint64_t> readers;
        for (std::uint64_t h : o.state.holders)
          if (h != o.state.writer) readers.push_back(h);
        out += ",\"readers\":";
        put_ids(out, readers);
        put_plain_one(out, "plain_writer", o.state.writer);
        put_plain(out, "plain_readers", readers);
        break;
      }
      case ObjectKind::wait_group:
        out += fmt::format(",\"count\":{}", o.state.count < 0 ? 0 : o.state.count);
        break;
      default:
        break;
    }
    out += '}';
  }
  // Plain threads blocked in call(): optional (version 1 readers ignore it);
  // their waits_for edges stay out of "edges", whose node kinds are fixed.
  if (!g.plain_threads.empty()) {
    out += "],\n\"plain_threads\":[";
    for (std::size_t i = 0; i < g.plain_threads.size(); ++i) {
      const PlainThreadNode& p = g.plain_threads[i];
      if (i) out += ",\n";
      out += fmt::format("{{\"id\":{},\"name\":", plain_thread_number(p.id));
      put_string(out, p.name);
      out += fmt::format(",\"tid\":{},\"state\":\"call\",\"waits_for\":", p.tid);
      if (g.fiber(p.call_fiber)) {
        put_string(out, node_id("fiber", p.call_fiber));
      } else {
        out += "null";
      }
      out += ",\"thread\":";
      put_opt(out, g.thread(p.locker) ? p.locker : 0);
      out += fmt::format(",\"since_ns\":{},\"site\":", p.since_ns);
      put_loc(out, p.site);
      out += '}';
    }
  }
  auto node_exists = [&](const std::string& n) {
    const auto colon = n.find(':');
    const std::string kind = n.substr(0, colon);
    const std::uint64_t id = std::stoull(n.substr(colon + 1));
    if (kind == "plain") return false;  // not a version 1 node: see plain_threads
    if (kind == "fiber") return g.fiber(id) != nullptr;
    if (kind == "thread") return g.thread(id) != nullptr;
    if (kind == "syscall") {
      for (const FiberNode& f : g.fibers)
        if (f.reason == WaitReason::syscall && f.thread == id && g.thread(id)) return true;
      return false;
    }
    const ObjectNode* o = g.object(id);
    return o && o->kind != ObjectKind::locker;
  };
  out += "],\n\"edges\":[";
  first = true;
  for (const Edge& e : g.edges) {
    if (!node_exists(e.from) || !node_exists(e.to)) continue;
    if (!first) out += ",\n";
    first = false;
    out += "{\"from\":";
    put_string(out, e.from);
    out += ",\"to\":";
    put_string(out, e.to);
    out += fmt::format(",\"kind\":\"{}\"", to_string(e.kind));
    if (e.since_ns) out += fmt::format(",\"since_ns\":{}", e.since_ns);  // unknown: left out
    out += '}';
  }
  out += "],\n\"deadlocks\":[";
  for (std::size_t i = 0; i < g.deadlocks.size(); ++i) {
    const Deadlock& d = g.deadlocks[i];
    if (i) out += ",\n";
    out += "{\"kind\":";
    put_string(out, d.kind);
    out += ",\"nodes\":[";
    std::vector<std::string> nodes;
    for (const std::string& n : d.nodes)
      if (node_exists(n)) nodes.push_back(n);
    if (nodes.empty()) {
      for (std::uint64_t id : d.fibers) nodes.push_back(node_id("fiber", id));
    }
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      if (k) out += ',';
      put_string(out, nodes[k]);
    }
    out += "],\"explanation\":";
    put_string(out, d.explanation);
    out += '}';
  }
  out += "]}\n";
  return out;
}

}  // namespace tether::detail
