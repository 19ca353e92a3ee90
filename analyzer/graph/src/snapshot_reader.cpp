// Snapshot JSON reader and validator (tether/graph/snapshot_reader.h).
//
// nlohmann-json parses; everything after that is an explicit walk that checks
// each value's type before touching it, so that no nlohmann type_error can
// escape and every complaint carries the JSON pointer of the bad value.
#include "tether/graph/snapshot_reader.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tether::graph {
namespace {

using Json = nlohmann::json;

// An RFC 6901 pointer, built up as the walk descends.
class Path {
 public:
  Path() = default;
  Path operator/(std::string_view key) const {
    Path p = *this;
    p.text_ += '/';
    for (char c : key) {
      if (c == '~') {
        p.text_ += "~0";
      } else if (c == '/') {
        p.text_ += "~1";
      } else {
        p.text_ += c;
      }
    }
    return p;
  }
  Path operator/(std::size_t index) const {
    return *this / std::string_view(std::to_string(index));
  }
  std::string str() const { return text_.empty() ? "/" : text_; }

 private:
  std::string text_;
};

class Reader {
 public:
  explicit Reader(std::string_view name) : name_(name) {}

  Snapshot read(const Json& doc) {
    const Path root;
    expect_object(doc, root);
    const std::string format = req_string(doc, root, "format");
    if (format != "tether-snapshot") {
      fail(root / "format", "expected \"tether-snapshot\", got \"" + format + "\"");
    }
    Snapshot s;
    const std::int64_t version = req_i64(doc, root, "version");
    if (version != 1) {
      fail(root / "version",
           "unsupported version " + std::to_string(version) + " (this tether reads version 1)");
    }
    s.version = 1;
    s.pid = req_i64(doc, root, "pid");
    s.program = opt_string(doc, root, "program");
    s.time_ns = req_i64(doc, root, "time_ns");
    each(doc, root, "threads", true,
         [&](const Json& v, const Path& p) { s.threads.push_back(thread(v, p)); });
    each(doc, root, "fibers", true,
         [&](const Json& v, const Path& p) { s.fibers.push_back(fiber(v, p)); });
    each(doc, root, "objects", true,
         [&](const Json& v, const Path& p) { s.objects.push_back(object(v, p)); });
    each(doc, root, "edges", true,
         [&](const Json& v, const Path& p) { s.edges.push_back(edge(v, p)); });
    each(doc, root, "deadlocks", false,
         [&](const Json& v, const Path& p) { s.deadlocks.push_back(deadlock(v, p)); });
    each(doc, root, "plain_threads", false,
         [&](const Json& v, const Path& p) { s.plain_threads.push_back(plain_thread(v, p)); });
    check_references(s);
    return s;
  }

 private:
  [[noreturn]] void fail(const Path& path, const std::string& what) const {
    throw SnapshotError(name_ + ": at JSON path " + path.str() + ": " + what);
  }

  // --- typed access -------------------------------------------------------

  void expect_object(const Json& v, const Path& p) const {
    if (!v.is_object()) fail(p, "expected object");
  }
  const Json* find(const Json& obj, std::string_view key) const {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }
  const Json& require(const Json& obj, const Path& p, std::string_view key) const {
    const Json* v = find(obj, key);
    if (v == nullptr) fail(p, "missing member \"" + std::string(key) + "\"");
    return *v;
  }
  std::string as_string(const Json& v, const Path& p) const {
    if (!v.is_string()) fail(p, "expected string");
    return v.get<std::string>();
  }
  std::uint64_t as_u64(const Json& v, const Path& p) const {
    if (!v.is_number_unsigned()) fail(p, "expected non-negative integer");
    return v.get<std::uint64_t>();
  }
  std::int64_t as_i64(const Json& v, const Path& p) const {
    if (v.is_number_unsigned()) {
      const auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        fail(p, "integer out of range");
      }
      return static_cast<std::int64_t>(u);
    }
    if (!v.is_number_integer()) fail(p, "expected integer");
    return v.get<std::int64_t>();
  }
  std::uint32_t as_line(const Json& v, const Path& p) const {
    const std::uint64_t u = as_u64(v, p);
    if (u > std::numeric_limits<std::uint32_t>::max()) fail(p, "line number out of range");
    return static_cast<std::uint32_t>(u);
  }
  NodeId as_node(const Json& v, const Path& p) const {
    const std::string s = as_string(v, p);
    auto n = parse_node_id(s);
    if (!n) fail(p, "expected node id \"KIND:ID\" (e.g. \"fiber:7\"), got \"" + s + "\"");
    return *n;
  }

  std::string req_string(const Json& o, const Path& p, std::string_view k) const {
    return as_string(require(o, p, k), p / k);
  }
  std::string opt_string(const Json& o, const Path& p, std::string_view k) const {
    const Json* v = find(o, k);
    return v == nullptr || v->is_null() ? std::string() : as_string(*v, p / k);
  }
  std::uint64_t req_u64(const Json& o, const Path& p, std::string_view k) const {
    return as_u64(require(o, p, k), p / k);
  }
  std::int64_t req_i64(const Json& o, const Path& p, std::string_view k) const {
    return as_i64(require(o, p, k), p / k);
  }
  std::optional<std::uint64_t> opt_u64(const Json& o, const Path& p, std::string_view k) const {
    const Json* v = find(o, k);
    if (v == nullptr || v->is_null()) return std::nullopt;
    return as_u64(*v, p / k);
  }
  std::optional<std::int64_t> opt_i64(const Json& o, const Path& p, std::string_view k) const {
    const Json* v = find(o, k);
    if (v == nullptr || v->is_null()) return std::nullopt;
    return as_i64(*v, p / k);
  }
  bool opt_bool(const Json& o, const Path& p, std::string_view k) const {
    const Json* v = find(o, k);
    if (v == nullptr || v->is_null()) return false;
    if (!v->is_boolean()) fail(p / k, "expected true or false");
    return v->get<bool>();
  }
  template <class F>
  void each(const Json& o, const Path& p, std::string_view k, bool required, F&& f) const {
    const Json* v = required ? &require(o, p, k) : find(o, k);
    if (v == nullptr) return;
    const Path ap = p / k;
    if (!v->is_array()) fail(ap, "expected array");
    for (std::size_t i = 0; i < v->size(); ++i) f((*v)[i], ap / i);
  }
  std::vector<std::uint64_t> u64_list(const Json& o, const Path& p, std::string_view k) const {
    std::vector<std::uint64_t> out;
    each(o, p, k, false, [&](const Json& v, const Path& ip) { out.push_back(as_u64(v, ip)); });
    return out;
  }

  // --- records ------------------------------------------------------------

  SourceLoc loc(const Json& v, const Path& p) const {
    expect_object(v, p);
    SourceLoc l;
    l.file = opt_string(v, p, "file");
    if (const Json* line = find(v, "line"); line != nullptr && !line->is_null()) {
      l.line = as_line(*line, p / "line");
    }
    l.function = opt_string(v, p, "function");
    return l;
  }
  SourceLoc opt_loc(const Json& o, const Path& p, std::string_view k) const {
    const Json* v = find(o, k);
    return v == nullptr || v->is_null() ? SourceLoc{} : loc(*v, p / k);
  }

  Thread thread(const Json& v, const Path& p) const {
    expect_object(v, p);
    Thread t;
    t.id = req_u64(v, p, "id");
    t.name = opt_string(v, p, "name");
    const std::string kind = req_string(v, p, "kind");
    if (kind == "main") {
      t.kind = ThreadKind::main;
    } else if (kind == "locker") {
      t.kind = ThreadKind::locker;
    } else if (kind == "pool") {
      t.kind = ThreadKind::pool;
    } else {
      fail(p / "kind", "unknown thread kind \"" + kind + "\" (expected main, locker or pool)");
    }
    t.tid = opt_i64(v, p, "tid");
    t.running = opt_u64(v, p, "running");
    if (const Json* sc = find(v, "syscall"); sc != nullptr && !sc->is_null()) {
      const Path sp = p / "syscall";
      expect_object(*sc, sp);
      Syscall call;
      call.fiber = req_u64(*sc, sp, "fiber");
      call.call = req_string(*sc, sp, "call");
      call.fd = opt_i64(*sc, sp, "fd");
      call.peer_fd = opt_i64(*sc, sp, "peer_fd");
      call.since_ns = req_i64(*sc, sp, "since_ns");
      t.syscall = std::move(call);
    }
    return t;
  }

  Fiber fiber(const Json& v, const Path& p) const {
    expect_object(v, p);
    Fiber f;
    f.id = req_u64(v, p, "id");
    f.name = opt_string(v, p, "name");
    f.state = req_string(v, p, "state");
    if (!is_fiber_state(f.state)) {
      fail(p / "state", "unknown fiber state \"" + f.state +
                            "\" (expected a wait reason such as \"chan receive\"; see "
                            "docs/snapshot-format.md)");
    }
    if (const Json* o = find(v, "object"); o != nullptr && !o->is_null()) {
      f.object = as_node(*o, p / "object");
    }
    f.since_ns = opt_i64(v, p, "since_ns");
    f.site = opt_loc(v, p, "site");
    f.created_at = opt_loc(v, p, "created_at");
    f.parent = opt_u64(v, p, "parent");
    f.locked_to = opt_u64(v, p, "locked_to");
    f.thread = opt_u64(v, p, "thread");
    each(v, p, "stack", false,
         [&](const Json& fr, const Path& fp) { f.stack.push_back(loc(fr, fp)); });
    return f;
  }

  Object object(const Json& v, const Path& p) const {
    expect_object(v, p);
    Object o;
    o.id = req_u64(v, p, "id");
    const std::string kind = req_string(v, p, "kind");
    const auto k = node_kind_from_string(kind);
    if (!k || *k == NodeKind::thread || *k == NodeKind::syscall || *k == NodeKind::fiber) {
      fail(p / "kind", "unknown object kind \"" + kind +
                           "\" (expected chan, mutex, rwmutex, cond_var, wait_group or once)");
    }
    o.kind = *k;
    o.name = opt_string(v, p, "name");
    o.created_at = opt_loc(v, p, "created_at");
    switch (o.kind) {
      case NodeKind::chan:
        o.capacity = req_i64(v, p, "capacity");
        if (o.capacity < 0) fail(p / "capacity", "must not be negative");
        o.size = opt_i64(v, p, "size").value_or(0);
        if (o.size < 0 || o.size > o.capacity) {
          fail(p / "size",
               "must be between 0 and the capacity (" + std::to_string(o.capacity) + ")");
        }
        o.closed = opt_bool(v, p, "closed");
        o.senders = u64_list(v, p, "senders");
        o.receivers = u64_list(v, p, "receivers");
        o.plain_senders = u64_list(v, p, "plain_senders");
        o.plain_receivers = u64_list(v, p, "plain_receivers");
        break;
      case NodeKind::mutex:
        o.holder = opt_u64(v, p, "holder");
        break;
      case NodeKind::rwmutex:
        o.writer = opt_u64(v, p, "writer");
        o.readers = u64_list(v, p, "readers");
        break;
      case NodeKind::wait_group:
        o.count = req_i64(v, p, "count");
        if (o.count < 0) fail(p / "count", "must not be negative");
        break;
      default:
        break;
    }
    return o;
  }

  Edge edge(const Json& v, const Path& p) const {
    expect_object(v, p);
    Edge e;
    e.from = as_node(require(v, p, "from"), p / "from");
    e.to = as_node(require(v, p, "to"), p / "to");
    const std::string kind = req_string(v, p, "kind");
    if (kind == "waits_for") {
      e.kind = EdgeKind::waits_for;
    } else if (kind == "held_by") {
      e.kind = EdgeKind::held_by;
    } else if (kind == "locked_to") {
      e.kind = EdgeKind::locked_to;
    } else if (kind == "occupies") {
      e.kind = EdgeKind::occupies;
    } else {
      fail(p / "kind", "unknown edge kind \"" + kind +
                           "\" (expected waits_for, held_by, locked_to or occupies)");
    }
    e.since_ns = opt_i64(v, p, "since_ns");
    return e;
  }

  PlainThread plain_thread(const Json& v, const Path& p) const {
    expect_object(v, p);
    PlainThread t;
    t.id = req_u64(v, p, "id");
    t.name = opt_string(v, p, "name");
    t.tid = opt_i64(v, p, "tid");
    t.state = req_string(v, p, "state");
    if (t.state != "call") fail(p / "state", "unknown plain thread state \"" + t.state + "\" (expected call)");
    if (const Json* w = find(v, "waits_for"); w != nullptr && !w->is_null()) {
      const NodeId n = as_node(*w, p / "waits_for");
      if (n.kind != NodeKind::fiber) fail(p / "waits_for", "expected a fiber, got \"" + n.str() + "\"");
      t.waits_for = n.id;
    }
    t.thread = opt_u64(v, p, "thread");
    t.since_ns = opt_i64(v, p, "since_ns");
    t.site = opt_loc(v, p, "site");
    return t;
  }

  Deadlock deadlock(const Json& v, const Path& p) const {
    expect_object(v, p);
    Deadlock d;
    d.kind = req_string(v, p, "kind");
    if (!is_deadlock_kind(d.kind)) {
      std::string known;
      for (std::string_view k : kDeadlockKinds)
        known += (known.empty() ? "" : ", ") + std::string(k);
      fail(p / "kind", "unknown deadlock kind \"" + d.kind + "\" (expected one of: " + known + ")");
    }
    each(v, p, "nodes", true,
         [&](const Json& n, const Path& np) { d.nodes.push_back(as_node(n, np)); });
    if (d.nodes.empty()) fail(p / "nodes", "a deadlock must name at least one node");
    d.explanation = opt_string(v, p, "explanation");
    return d;
  }

  // --- cross references ---------------------------------------------------

  void check_references(const Snapshot& s) const {
    const Path root;
    std::set<NodeId> nodes;
    std::set<std::uint64_t> threads, fibers;
    for (std::size_t i = 0; i < s.threads.size(); ++i) {
      const Thread& t = s.threads[i];
      if (!threads.insert(t.id).second) {
        fail(root / "threads" / i / "id", "duplicate thread id " + std::to_string(t.id));
      }
      nodes.insert(NodeId{NodeKind::thread, t.id});
      if (t.syscall) nodes.insert(NodeId{NodeKind::syscall, t.id});
    }
    for (std::size_t i = 0; i < s.fibers.size(); ++i) {
      if (!fibers.insert(s.fibers[i].id).second) {
        fail(root / "fibers" / i / "id", "duplicate fiber id " + std::to_string(s.fibers[i].id));
      }
      nodes.insert(NodeId{NodeKind::fiber, s.fibers[i].id});
    }
    std::set<std::uint64_t> object_ids;
    for (std::size_t i = 0; i < s.objects.size(); ++i) {
      if (!object_ids.insert(s.objects[i].id).second) {
        fail(root / "objects" / i / "id", "duplicate object id " + std::to_string(s.objects[i].id));
      }
      nodes.insert(s.objects[i].node());
    }
    auto need_node = [&](NodeId n, const Path& p) {
      if (nodes.count(n) == 0) fail(p, "no node \"" + n.str() + "\" in this snapshot");
    };
    auto need_thread = [&](std::optional<std::uint64_t> id, const Path& p) {
      if (id && threads.count(*id) == 0) fail(p, "no thread with id " + std::to_string(*id));
    };
    auto need_fiber = [&](std::optional<std::uint64_t> id, const Path& p) {
      if (id && fibers.count(*id) == 0) fail(p, "no fiber with id " + std::to_string(*id));
    };
    for (std::size_t i = 0; i < s.threads.size(); ++i) {
      const Path p = root / "threads" / i;
      need_fiber(s.threads[i].running, p / "running");
      if (s.threads[i].syscall) need_fiber(s.threads[i].syscall->fiber, p / "syscall" / "fiber");
    }
    for (std::size_t i = 0; i < s.fibers.size(); ++i) {
      const Path p = root / "fibers" / i;
      const Fiber& f = s.fibers[i];
      if (f.object) need_node(*f.object, p / "object");
      need_thread(f.locked_to, p / "locked_to");
      need_thread(f.thread, p / "thread");
    }
    for (std::size_t i = 0; i < s.edges.size(); ++i) {
      const Path p = root / "edges" / i;
      need_node(s.edges[i].from, p / "from");
      need_node(s.edges[i].to, p / "to");
    }
    std::set<std::uint64_t> plain;
    for (std::size_t i = 0; i < s.plain_threads.size(); ++i) {
      const Path p = root / "plain_threads" / i;
      const PlainThread& t = s.plain_threads[i];
      if (!plain.insert(t.id).second) fail(p / "id", "duplicate plain thread id " + std::to_string(t.id));
      need_fiber(t.waits_for, p / "waits_for");
      need_thread(t.thread, p / "thread");
    }
    for (std::size_t i = 0; i < s.deadlocks.size(); ++i) {
      const Path p = root / "deadlocks" / i / "nodes";
      for (std::size_t j = 0; j < s.deadlocks[i].nodes.size(); ++j) {
        need_node(s.deadlocks[i].nodes[j], p / j);
      }
    }
  }

  std::string name_;
};

// "[json.exception.parse_error.101] parse error at line 1, column 5: syntax
// error ..." -> "syntax error ..."; line and column are reported separately.
std::string parse_error_text(const Json::exception& e) {
  std::string what = e.what();
  const auto column = what.find("column ");
  if (column != std::string::npos) {
    const auto colon = what.find(": ", column);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  const auto bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace

Snapshot parse_snapshot(std::string_view text, std::string_view name) {
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.byte counts characters read (1-based); turn it into line:column.
    const std::size_t at = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < at; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw SnapshotError(std::string(name) + ":" + std::to_string(line) + ":" +
                        std::to_string(column) + ": invalid JSON: " + parse_error_text(e));
  } catch (const Json::exception& e) {
    // Not a syntax error but a value the parser cannot hold (a number out of
    // range): nlohmann gives no position for these.
    throw SnapshotError(std::string(name) + ": invalid JSON: " + parse_error_text(e));
  }
  return Reader(name).read(doc);
}

Snapshot read_snapshot(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw SnapshotError(path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SnapshotError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw SnapshotError(path + ": read error");
  return parse_snapshot(buf.str(), path);
}

}  // namespace tether::graph
