// WaitGraph -> DOT (tether/viz/dot_writer.h).
#include "tether/viz/dot_writer.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "text.h"
#include "view.h"

namespace tether::viz {
namespace {

using graph::Edge;
using graph::EdgeKind;
using graph::Fiber;
using graph::NodeId;
using graph::NodeKind;
using graph::Object;
using graph::Snapshot;
using graph::Thread;
using graph::WaitGraph;

constexpr std::size_t kLabelWidth = 40;  // code points per label line
constexpr std::size_t kTooltipWidth = 160;
constexpr std::size_t kTooltipFrames = 32;
constexpr std::size_t kListedIds = 20;
// Above this many drawn nodes, dot (Graphviz 2.42) becomes unusable: its
// time grows faster than quadratically (about 1 s at 800 nodes, 12 s at
// 1,600, over 5 min at 10,000, in network simplex). Such graphs are laid out
// with osage instead, which packs the thread clusters and keeps 10,000 nodes
// within issue 5's 20 s. The default collapse rarely gets here.
constexpr std::size_t kLargeGraph = 1000;

constexpr const char* kDeadlockColor = "#d00000";
constexpr const char* kDeadlockFill = "#ffd9d9";
constexpr const char* kStallColor = "#e67e00";
constexpr const char* kStallFill = "#ffe8c7";

const char* shape_of(NodeKind k) {
  switch (k) {
    case NodeKind::thread:
      return "box3d";
    case NodeKind::syscall:
      return "parallelogram";
    case NodeKind::fiber:
      return "ellipse";
    case NodeKind::chan:
      return "cds";
    case NodeKind::mutex:
      return "octagon";
    case NodeKind::rwmutex:
      return "doubleoctagon";
    case NodeKind::cond_var:
      return "invhouse";
    case NodeKind::wait_group:
      return "house";
    case NodeKind::once:
      return "diamond";
  }
  return "box";
}

const char* fill_of_state(const std::string& state) {
  if (state == "running") return "#d8f0d8";
  if (state == "runnable") return "#dde8ff";
  if (state == "syscall") return "#f3e0cf";
  if (state == "dead") return "#e0e0e0";
  if (state == "sleep") return "#eeeeee";
  return "#fff4c2";  // blocked
}

const char* edge_words(EdgeKind k) {
  switch (k) {
    case EdgeKind::waits_for:
      return "waits for";
    case EdgeKind::held_by:
      return "held by";
    case EdgeKind::locked_to:
      return "locked to";
    case EdgeKind::occupies:
      return "occupies";
  }
  return "?";
}

// A DOT string: lines escaped and joined with the escString newline `sep`
// ("\\n" centred, "\\l" left-justified).
std::string dot_lines(const std::vector<std::string>& lines, const char* sep = "\\n") {
  std::string out = "\"";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i != 0) out += sep;
    out += detail::dot_escape(lines[i]);
  }
  if (std::string_view(sep) == "\\l" && !lines.empty()) out += sep;
  out += '"';
  return out;
}

std::string quoted(const std::string& s) {
  return "\"" + detail::dot_escape(s) + "\"";
}

std::string id_list(const std::vector<std::uint64_t>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < kListedIds; ++i) {
    if (i != 0) out += ", ";
    out += std::to_string(ids[i]);
  }
  if (ids.size() > kListedIds) out += ", … (" + std::to_string(ids.size()) + " in all)";
  return out;
}

class Writer {
 public:
  Writer(const WaitGraph& g, const DotOptions& options)
      : g_(g), snap_(g.snapshot()), options_(options), view_(detail::make_view(g, options)) {}

  std::string write() {
    collect_drawn();
    out_ += "digraph \"tether\" {\n";
    graph_attributes();
    clusters();
    for (NodeId n : drawn_) {
      if (placed_.count(n) == 0) node(n, "  ");
    }
    edges();
    if (options_.legend) legend();
    out_ += "}\n";
    return std::move(out_);
  }

 private:
  // --- what is drawn ------------------------------------------------------

  void collect_drawn() {
    for (NodeId n : view_.kept) {
      if (n.kind == NodeKind::fiber && view_.rep(n) != n) continue;
      drawn_.push_back(n);
    }
  }

  bool in_deadlock(NodeId n) const { return g_.deadlocked().count(n) != 0; }
  bool in_stall(NodeId n) const { return g_.stalled().count(n) != 0; }

  std::string name_of(NodeId n) const {
    std::string kind =
        n.kind == NodeKind::wait_group ? "waitgroup" : std::string(to_string(n.kind));
    std::string name;
    if (n.kind == NodeKind::thread) {
      if (const Thread* t = g_.thread(n.id)) name = t->name;
    } else if (n.kind == NodeKind::fiber) {
      const Fiber* f = g_.fiber(n.id);
      const std::string head = "fiber " + std::to_string(n.id);
      return f == nullptr || f->name.empty() ? head : head + " \"" + f->name + "\"";
    } else if (n.kind == NodeKind::syscall) {
      if (const Thread* t = g_.thread(n.id))
        return t->syscall->call + " on thread " + std::to_string(n.id);
    } else if (const Object* o = g_.object(n)) {
      name = o->name;
    }
    return name.empty() ? kind + " " + std::to_string(n.id) : kind + " \"" + name + "\"";
  }

  // --- graph header -------------------------------------------------------

  void graph_attributes() {
    std::vector<std::string> lines;
    std::string title = "tether wait-for graph";
    if (!snap_.program.empty()) title += " of \"" + snap_.program + "\"";
    title += " (pid " + std::to_string(snap_.pid) + "): " + std::to_string(snap_.fibers.size()) +
             " fibers, " + std::to_string(snap_.threads.size()) + " threads";
    lines.push_back(title);
    for (const auto& d : snap_.deadlocks) {
      const bool stall = d.kind == "stall";
      lines.push_back(std::string(stall ? "STALL" : "DEADLOCK") + " (" + d.kind +
                      "): " + detail::truncate(d.explanation, 150));
    }
    if (snap_.deadlocks.empty()) lines.push_back("no deadlock or stall recorded");
    if (options_.focus && !view_.focused) {
      lines.push_back("--focus: nothing to focus on, the whole graph is shown");
    } else if (view_.focused) {
      lines.push_back("--focus: " + std::to_string(view_.kept.size()) + " of " +
                      std::to_string(g_.nodes().size()) + " nodes shown");
    }
    std::size_t fibers_drawn = 0, fibers_kept = 0;
    for (const auto& [rep, ids] : view_.members) {
      ++fibers_drawn;
      fibers_kept += ids.size();
    }
    if (drawn_.size() > kLargeGraph) {
      lines.push_back(std::to_string(drawn_.size()) +
                      " nodes: packed layout (osage); collapse identical fibers or use --focus "
                      "for a wait-for layout");
    }
    if (fibers_drawn != fibers_kept) {
      lines.push_back("identical fibers collapsed: " + std::to_string(fibers_kept) + " fibers in " +
                      std::to_string(fibers_drawn) + " nodes");
    }
    out_ += "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, labelloc=t, labeljust=l,\n";
    out_ +=
        "         newrank=true, nodesep=0.25, ranksep=0.6, tooltip=\"tether wait-for graph\",\n";
    if (drawn_.size() > kLargeGraph) out_ += "         layout=osage, splines=line,\n";
    out_ += "         label=" + dot_lines(lines, "\\l") + "];\n";
    out_ += "  node [fontname=\"Helvetica\", fontsize=10, style=filled, fillcolor=white];\n";
    out_ += "  edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7];\n";
  }

  // --- clusters -----------------------------------------------------------

  void clusters() {
    // Fibers (groups) locked to each thread.
    std::map<std::uint64_t, std::vector<NodeId>> locked;
    for (NodeId n : drawn_) {
      if (n.kind != NodeKind::fiber) continue;
      const Fiber* f = g_.fiber(n.id);
      if (f->locked_to && view_.kept.count(NodeId{NodeKind::thread, *f->locked_to}) != 0) {
        locked[*f->locked_to].push_back(n);
      }
    }
    for (NodeId n : drawn_) {
      if (n.kind != NodeKind::thread) continue;
      const Thread* t = g_.thread(n.id);
      std::size_t fibers = 0;
      for (NodeId f : locked[t->id]) fibers += view_.members.at(f).size();
      std::string label = "thread \"" + t->name + "\" (" + std::string(to_string(t->kind));
      if (fibers != 0)
        label += ", " + std::to_string(fibers) + (fibers == 1 ? " fiber" : " fibers") + " locked";
      label += ")";
      out_ += "  subgraph \"cluster_thread:" + std::to_string(t->id) + "\" {\n";
      out_ += "    graph [label=" + quoted(detail::truncate(label, 60)) +
              ", style=\"rounded,filled\", color=\"#7a7a7a\", fillcolor=\"" +
              (t->kind == graph::ThreadKind::pool ? "#f4f4f4" : "#eaf1fb") +
              "\", tooltip=" + quoted(label) + "];\n";
      node(n, "    ");
      const NodeId sc{NodeKind::syscall, t->id};
      if (view_.kept.count(sc) != 0) node(sc, "    ");
      for (NodeId f : locked[t->id]) node(f, "    ");
      out_ += "  }\n";
    }
  }

  // --- nodes --------------------------------------------------------------

  void node(NodeId n, const char* indent) {
    placed_.insert(n);
    std::vector<std::string> label, tip;
    const char* fill = "white";
    switch (n.kind) {
      case NodeKind::thread:
        thread_text(n, label, tip);
        fill = "#ffffff";
        break;
      case NodeKind::syscall:
        syscall_text(n, label, tip);
        fill = "#f3e0cf";
        break;
      case NodeKind::fiber:
        fill = fiber_text(n, label, tip);
        break;
      default:
        object_text(n, label, tip);
        break;
    }
    out_ += indent;
    out_ += quoted(n.str()) + " [shape=" + shape_of(n.kind) + ", label=" + dot_lines(label) +
            ", tooltip=" + dot_lines(tip);
    if (in_deadlock(n)) {
      out_ += std::string(", color=\"") + kDeadlockColor + "\", penwidth=3, fillcolor=\"" +
              kDeadlockFill + "\"";
    } else if (in_stall(n)) {
      out_ += std::string(", color=\"") + kStallColor + "\", penwidth=3, fillcolor=\"" +
              kStallFill + "\"";
    } else {
      out_ += std::string(", fillcolor=\"") + fill + "\"";
    }
    if (n.kind == NodeKind::fiber && view_.members.at(n).size() > 1) out_ += ", peripheries=2";
    out_ += "];\n";
  }

  void thread_text(NodeId n, std::vector<std::string>& label, std::vector<std::string>& tip) {
    const Thread* t = g_.thread(n.id);
    label.push_back(detail::truncate("thread \"" + t->name + "\"", kLabelWidth));
    std::string second(to_string(t->kind));
    if (t->tid) second += ", tid " + std::to_string(*t->tid);
    label.push_back(second);
    if (t->running) label.push_back("running fiber " + std::to_string(*t->running));
    tip.push_back("OS thread " + std::to_string(t->id) + " \"" + t->name + "\" (" + second + ")");
    if (t->running) tip.push_back("running: " + name_of(NodeId{NodeKind::fiber, *t->running}));
    if (t->syscall)
      tip.push_back("in syscall " + t->syscall->call + " (fiber " +
                    std::to_string(t->syscall->fiber) + ")");
  }

  void syscall_text(NodeId n, std::vector<std::string>& label, std::vector<std::string>& tip) {
    const Thread* t = g_.thread(n.id);
    const graph::Syscall& sc = *t->syscall;
    std::string call = sc.call + "(";
    if (sc.fd) call += "fd " + std::to_string(*sc.fd);
    call += ")";
    label.push_back(detail::truncate(call, kLabelWidth));
    if (sc.peer_fd) label.push_back("peer fd " + std::to_string(*sc.peer_fd));
    label.push_back(detail::age(sc.since_ns, snap_.time_ns));
    std::string line = "syscall " + call + " by fiber " + std::to_string(sc.fiber) +
                       " on thread \"" + t->name + "\", for " +
                       detail::age(sc.since_ns, snap_.time_ns);
    tip.push_back(line);
    if (sc.peer_fd) {
      tip.push_back("the other end is fd " + std::to_string(*sc.peer_fd) +
                    ": whoever writes it wakes this call");
    }
  }

  const char* fiber_text(NodeId n, std::vector<std::string>& label, std::vector<std::string>& tip) {
    const Fiber& f = *g_.fiber(n.id);
    const std::vector<std::uint64_t>& ids = view_.members.at(n);
    // A group shows the shared name, if all share one.
    bool same_name = true;
    for (std::uint64_t id : ids) same_name = same_name && g_.fiber(id)->name == f.name;
    std::string head;
    if (ids.size() > 1) {
      head = std::to_string(ids.size()) + " fibers";
      if (same_name && !f.name.empty()) head += " \"" + f.name + "\"";
      tip.push_back(std::to_string(ids.size()) + " identical fibers: " + id_list(ids));
    } else {
      head = "fiber " + std::to_string(f.id);
      if (!f.name.empty()) head += " \"" + f.name + "\"";
      tip.push_back(head);
    }
    label.push_back(detail::truncate(head, kLabelWidth));
    const std::string age = detail::age(f.since_ns, snap_.time_ns);
    label.push_back(f.state + (age.empty() ? "" : ", " + age));
    const graph::SourceLoc& where = !f.stack.empty() ? f.stack.front() : f.site;
    if (const std::string s = detail::short_loc(where); !s.empty()) {
      label.push_back(detail::truncate(s, kLabelWidth));
    }

    tip.push_back("state: " + f.state + (age.empty() ? "" : " for " + age));
    if (f.object) tip.push_back("waits on: " + name_of(*f.object) + " (" + f.object->str() + ")");
    if (f.locked_to) tip.push_back("locked to: " + name_of(NodeId{NodeKind::thread, *f.locked_to}));
    if (f.thread) tip.push_back("on thread: " + name_of(NodeId{NodeKind::thread, *f.thread}));
    if (!f.site.file.empty() || !f.site.function.empty()) {
      tip.push_back("at: " + detail::long_loc(f.site));
    }
    if (!f.stack.empty()) {
      tip.push_back("stack:");
      for (std::size_t i = 0; i < f.stack.size() && i < kTooltipFrames; ++i) {
        tip.push_back("  " + detail::truncate(detail::long_loc(f.stack[i]), kTooltipWidth));
      }
      if (f.stack.size() > kTooltipFrames) {
        tip.push_back("  … " + std::to_string(f.stack.size() - kTooltipFrames) + " more frames");
      }
    }
    std::string created = "created";
    if (!f.created_at.file.empty() || !f.created_at.function.empty()) {
      created += " at " + detail::long_loc(f.created_at);
    }
    if (f.parent) created += " by fiber " + std::to_string(*f.parent);
    if (created != "created") tip.push_back(created);
    return fill_of_state(f.state);
  }

  void object_text(NodeId n, std::vector<std::string>& label, std::vector<std::string>& tip) {
    const Object& o = *g_.object(n);
    const std::string name = name_of(n);
    label.push_back(detail::truncate(name, kLabelWidth));
    tip.push_back(name + " (" + n.str() + ")");
    switch (o.kind) {
      case NodeKind::chan: {
        std::string s =
            "cap " + std::to_string(o.capacity) + ", " + std::to_string(o.size) + " queued";
        if (o.closed) s += ", closed";
        label.push_back(s);
        tip.push_back(s);
        tip.push_back("senders: " + (o.senders.empty() ? std::string("none") : id_list(o.senders)));
        tip.push_back("receivers: " +
                      (o.receivers.empty() ? std::string("none") : id_list(o.receivers)));
        break;
      }
      case NodeKind::mutex:
        if (o.holder) {
          label.push_back("held by fiber " + std::to_string(*o.holder));
          tip.push_back(label.back());
        } else {
          tip.push_back("not held");
        }
        break;
      case NodeKind::rwmutex:
        if (o.writer) label.push_back("writer: fiber " + std::to_string(*o.writer));
        if (!o.readers.empty()) {
          label.push_back(std::to_string(o.readers.size()) +
                          (o.readers.size() == 1 ? " reader" : " readers"));
          tip.push_back("readers: " + id_list(o.readers));
        }
        if (o.writer) tip.push_back(label[1]);
        break;
      case NodeKind::wait_group:
        label.push_back("count " + std::to_string(o.count));
        tip.push_back(label.back());
        break;
      default:
        break;
    }
    if (!o.created_at.file.empty() || !o.created_at.function.empty()) {
      tip.push_back("created at " + detail::long_loc(o.created_at));
    }
  }

  // --- edges --------------------------------------------------------------

  void edges() {
    struct Drawn {
      std::optional<std::int64_t> since;  // earliest: the longest wait of the group
      bool deadlock = false, stall = false;
    };
    std::map<std::tuple<NodeId, NodeId, EdgeKind>, Drawn> drawn;
    for (std::size_t e = 0; e < snap_.edges.size(); ++e) {
      const Edge& edge = snap_.edges[e];
      // locked_to is what the thread clusters show.
      if (edge.kind == EdgeKind::locked_to) continue;
      if (view_.kept.count(edge.from) == 0 || view_.kept.count(edge.to) == 0) continue;
      Drawn& d = drawn[{view_.rep(edge.from), view_.rep(edge.to), edge.kind}];
      if (edge.since_ns && (!d.since || *edge.since_ns < *d.since)) d.since = edge.since_ns;
      d.deadlock = d.deadlock || g_.edge_in_deadlock(e);
      d.stall = d.stall || g_.edge_in_stall(e);
    }
    for (const auto& [key, d] : drawn) {
      const auto& [from, to, kind] = key;
      std::vector<std::string> label{edge_words(kind)};
      if (const std::string a = detail::age(d.since, snap_.time_ns); !a.empty()) label.push_back(a);
      const std::string tip = name_of(from) + " " + edge_words(kind) + " " + name_of(to) +
                              (label.size() > 1 ? " (" + label[1] + ")" : "");
      out_ += "  " + quoted(from.str()) + " -> " + quoted(to.str()) +
              " [label=" + dot_lines(label) + ", tooltip=" + quoted(tip);
      if (d.deadlock) {
        out_ += std::string(", color=\"") + kDeadlockColor + "\", fontcolor=\"" + kDeadlockColor +
                "\", penwidth=3";
      } else if (d.stall) {
        out_ += std::string(", color=\"") + kStallColor + "\", fontcolor=\"" + kStallColor +
                "\", penwidth=3";
      } else if (kind == EdgeKind::held_by) {
        out_ += ", color=\"#1f5fbf\", fontcolor=\"#1f5fbf\", style=dashed";
      } else if (kind == EdgeKind::occupies) {
        out_ += ", color=\"#8b4513\", fontcolor=\"#8b4513\", style=bold";
      }
      out_ += "];\n";
    }
  }

  // --- legend -------------------------------------------------------------

  void legend() {
    out_ += "  subgraph \"cluster_legend\" {\n";
    out_ +=
        "    graph [label=\"legend\", style=\"rounded,dashed\", color=\"#9a9a9a\", fontsize=10, "
        "tooltip=\"legend\"];\n";
    out_ += "    node [fontsize=9, tooltip=\"legend\"];\n";
    const NodeKind kinds[] = {NodeKind::fiber,    NodeKind::thread,     NodeKind::syscall,
                              NodeKind::chan,     NodeKind::mutex,      NodeKind::rwmutex,
                              NodeKind::cond_var, NodeKind::wait_group, NodeKind::once};
    for (NodeKind k : kinds) {
      const std::string name(to_string(k));
      out_ += "    \"legend:" + name + "\" [shape=" + shape_of(k) + ", label=\"" +
              (k == NodeKind::thread ? std::string("OS thread") : name) + "\"];\n";
    }
    // Invisible chains lay the samples out in two short rows instead of one
    // tall column (rankdir=LR puts a chain side by side).
    for (std::size_t i = 0; i + 1 < std::size(kinds); ++i) {
      if (i == 4) continue;
      out_ += "    \"legend:" + std::string(to_string(kinds[i])) +
              "\" -> \"legend:" + std::string(to_string(kinds[i + 1])) + "\" [style=invis];\n";
    }
    out_ +=
        "    \"legend:edges\" [shape=plaintext, style=\"\", label=<"
        "<table border=\"0\" cellborder=\"0\" cellspacing=\"0\" cellpadding=\"2\">"
        "<tr><td align=\"left\">&#8594; waits for</td></tr>"
        "<tr><td align=\"left\"><font color=\"#1f5fbf\">&#8674; held by (owner)</font></td></tr>"
        "<tr><td align=\"left\"><font color=\"#8b4513\">&#10142; occupies (its "
        "thread)</font></td></tr>"
        "<tr><td align=\"left\"><font color=\"#d00000\"><b>red, bold: deadlock</b></font></td></tr>"
        "<tr><td align=\"left\"><font color=\"#e67e00\"><b>orange, bold: stall</b></font></td></tr>"
        "<tr><td align=\"left\">box around: fibers locked to one OS thread</td></tr>"
        "<tr><td align=\"left\">double outline: N identical fibers</td></tr>"
        "</table>>];\n";
    out_ += "  }\n";
  }

  const WaitGraph& g_;
  const Snapshot& snap_;
  DotOptions options_;
  detail::View view_;
  std::vector<NodeId> drawn_;  // sorted
  std::set<NodeId> placed_;
  std::string out_;
};

}  // namespace

std::string to_dot(const graph::WaitGraph& g, const DotOptions& options) {
  return Writer(g, options).write();
}

}  // namespace tether::viz
