#include "findings_report.h"
#include "trace_events.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

namespace tether::detail {

FindingsReport& FindingsReport::instance() {
  static FindingsReport* r = new FindingsReport;  // used until the process ends
  return *r;
}

void FindingsReport::add(const WaitGraph& g, std::string_view kind, std::string_view pattern,
                         const std::vector<std::uint64_t>& fibers,
                         const std::vector<std::string>& nodes, std::string_view explanation,
                         std::string_view text) {
  trace::on_finding(kind, pattern, fibers);
  const char* path = std::getenv("TETHER_REPORT");
  if (!path || !*path) return;
  std::string out = "{\"kind\":";
  append_json_string(out, kind);
  out += ",\"pattern\":";
  append_json_string(out, pattern);
  std::set<std::uint64_t> objects, threads;
  for (const std::string& n : nodes) {
    const auto colon = n.find(':');
    if (colon == std::string::npos) continue;
    const std::string k = n.substr(0, colon);
    const std::uint64_t id = std::stoull(n.substr(colon + 1));
    if (k == "thread" || k == "syscall") {
      threads.insert(id);
    } else if (k != "fiber" && k != "plain") {  // plain: a plain thread in call()
      objects.insert(id);
    }
  }
  out += ",\"fibers\":[";
  for (std::size_t i = 0; i < fibers.size(); ++i) {
    const FiberNode* f = g.fiber(fibers[i]);
    if (!f) continue;
    if (i) out += ',';
    out += fmt::format("{{\"id\":{},\"name\":", f->id);
    append_json_string(out, f->name);
    out += ",\"state\":";
    append_json_string(out, to_string(f->reason));
    out += ",\"object\":";
    if (const ObjectNode* o = f->object_id ? g.object(f->object_id) : nullptr) {
      append_json_string(out, object_node_id(*o));
      if (o->kind != ObjectKind::locker) objects.insert(o->id);
    } else {
      out += "null";
    }
    if (f->locked_to) threads.insert(f->locked_to);
    out += ",\"site\":{\"file\":";
    append_json_string(out, f->site.file_name() ? f->site.file_name() : "");
    out += fmt::format(",\"line\":{}}}", f->site.line());
    out += ",\"locked_to\":" + (f->locked_to ? std::to_string(f->locked_to) : std::string("null"));
    out += ",\"stack\":[";
    for (std::size_t k = 0; k < f->stack.size(); ++k) {
      if (k) out += ',';
      out += "{\"function\":";
      append_json_string(out, f->stack[k].function);
      out += ",\"file\":";
      append_json_string(out, f->stack[k].file);
      out += fmt::format(",\"line\":{}}}", f->stack[k].line);
    }
    out += "]}";
  }
  out += "],\"objects\":[";
  bool first = true;
  for (std::uint64_t id : objects) {
    const ObjectNode* o = g.object(id);
    if (!o || o->kind == ObjectKind::locker) continue;
    if (!first) out += ',';
    first = false;
    out += fmt::format("{{\"id\":{},\"kind\":\"{}\",\"name\":", o->id, to_string(o->kind));
    append_json_string(out, o->name);
    out += '}';
  }
  out += "],\"threads\":[";
  first = true;
  for (std::uint64_t id : threads) {
    const ThreadNode* t = g.thread(id);
    if (!t) continue;
    if (!first) out += ',';
    first = false;
    out += fmt::format("{{\"id\":{},\"name\":", t->id);
    append_json_string(out, t->name);
    out += '}';
  }
  out += "],\"explanation\":";
  append_json_string(out, explanation);
  out += ",\"text\":";
  append_json_string(out, text);
  out += '}';
  std::lock_guard lk(mu_);
  findings_.push_back(std::move(out));
  write_locked();
}

void append_stack_json(std::string& out, const std::vector<StackFrame>& stack) {
  out += '[';
  for (std::size_t k = 0; k < stack.size(); ++k) {
    if (k) out += ',';
    out += "{\"function\":";
    append_json_string(out, stack[k].function);
    out += ",\"file\":";
    append_json_string(out, stack[k].file);
    out += fmt::format(",\"line\":{}}}", stack[k].line);
  }
  out += ']';
}

void FindingsReport::add(std::string_view kind, std::string_view pattern,
                         const std::vector<ReportFiber>& fibers,
                         const std::vector<ReportObject>& objects, std::string_view explanation,
                         std::string_view text, std::string_view extra) {
  const char* path = std::getenv("TETHER_REPORT");
  if (!path || !*path) return;
  std::string out = "{\"kind\":";
  append_json_string(out, kind);
  out += ",\"pattern\":";
  append_json_string(out, pattern);
  out += ",\"fibers\":[";
  for (std::size_t i = 0; i < fibers.size(); ++i) {
    const ReportFiber& f = fibers[i];
    if (i) out += ',';
    out += fmt::format("{{\"id\":{},\"name\":", f.id);
    append_json_string(out, f.name);
    out += ",\"state\":";
    append_json_string(out, f.state);
    out += ",\"object\":";
    if (f.object.empty()) {
      out += "null";
    } else {
      append_json_string(out, f.object);
    }
    out += ",\"site\":{\"file\":";
    append_json_string(out, f.file);
    out += fmt::format(",\"line\":{}}}", f.line);
    out += ",\"locked_to\":" + (f.locked_to ? std::to_string(f.locked_to) : std::string("null"));
    out += ",\"stack\":";
    append_stack_json(out, f.stack);
    out += '}';
  }
  out += "],\"objects\":[";
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (i) out += ',';
    out += fmt::format("{{\"id\":{},\"kind\":", objects[i].id);
    append_json_string(out, objects[i].kind);
    out += ",\"name\":";
    append_json_string(out, objects[i].name);
    out += '}';
  }
  out += "],\"threads\":[],\"explanation\":";
  append_json_string(out, explanation);
  out += ",\"text\":";
  append_json_string(out, text);
  out += extra;
  out += '}';
  std::lock_guard lk(mu_);
  findings_.push_back(std::move(out));
  write_locked();
}

void FindingsReport::write_locked() {
  const char* path = std::getenv("TETHER_REPORT");
  if (!path || !*path) return;
  std::string doc = fmt::format("{{\"format\":\"tether-report\",\"version\":1,\"pid\":{},\"findings\":[\n",
                                static_cast<long>(getpid()));
  for (std::size_t i = 0; i < findings_.size(); ++i) {
    doc += findings_[i];
    doc += i + 1 < findings_.size() ? ",\n" : "\n";
  }
  doc += "]}\n";
  const std::string tmp = std::string(path) + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const char* p = doc.data();
  std::size_t left = doc.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::close(fd);
  std::rename(tmp.c_str(), path);
}

}  // namespace tether::detail
