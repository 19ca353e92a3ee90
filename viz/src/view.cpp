// Focus and collapse (view.h).
#include "view.h"

#include <algorithm>
#include <string>
#include <utility>

namespace tether::viz::detail {
namespace {

using graph::Edge;
using graph::Fiber;
using graph::NodeId;
using graph::NodeKind;
using graph::SourceLoc;

void put(std::string& key, const SourceLoc& l) {
  key += l.function;
  key += '\x1f';
  key += l.file;
  key += '\x1f';
  key += std::to_string(l.line);
  key += '\x1e';
}

template <class T>
void put_opt(std::string& key, const std::optional<T>& v) {
  key += v ? std::to_string(*v) : std::string("-");
  key += '\x1e';
}

// Everything that makes two fibers look different in the drawing, except id
// and name. Fibers with equal keys are interchangeable in the graph.
std::string collapse_key(const graph::WaitGraph& g, const Fiber& f) {
  std::string key = f.state;
  key += '\x1e';
  key += f.object ? f.object->str() : std::string("-");
  key += '\x1e';
  put_opt(key, f.locked_to);
  put_opt(key, f.thread);
  put(key, f.site);
  for (const SourceLoc& l : f.stack) put(key, l);
  key += '\x1d';
  const NodeId self{NodeKind::fiber, f.id};
  std::vector<std::string> ends;
  for (std::size_t e : g.out_edges(self)) {
    const Edge& edge = g.snapshot().edges[e];
    ends.push_back(">" + std::string(to_string(edge.kind)) + edge.to.str());
  }
  for (std::size_t e : g.in_edges(self)) {
    const Edge& edge = g.snapshot().edges[e];
    ends.push_back("<" + std::string(to_string(edge.kind)) + edge.from.str());
  }
  std::sort(ends.begin(), ends.end());
  for (const std::string& s : ends) key += s + '\x1e';
  return key;
}

}  // namespace

View make_view(const graph::WaitGraph& g, const DotOptions& options) {
  View v;
  const auto& snap = g.snapshot();
  const bool anything = !g.deadlocked().empty() || !g.stalled().empty();
  if (options.focus && anything) {
    v.focused = true;
    std::set<NodeId> core = g.deadlocked();
    core.insert(g.stalled().begin(), g.stalled().end());
    v.kept = core;
    for (NodeId n : core) {
      for (std::size_t e : g.out_edges(n)) v.kept.insert(snap.edges[e].to);
      for (std::size_t e : g.in_edges(n)) v.kept.insert(snap.edges[e].from);
    }
    // A kept fiber is drawn inside its thread's cluster: keep that thread.
    std::set<NodeId> threads;
    for (NodeId n : v.kept) {
      if (n.kind != NodeKind::fiber) continue;
      const Fiber* f = g.fiber(n.id);
      if (f != nullptr && f->locked_to) threads.insert(NodeId{NodeKind::thread, *f->locked_to});
    }
    v.kept.insert(threads.begin(), threads.end());
  } else {
    v.kept.insert(g.nodes().begin(), g.nodes().end());
  }

  std::map<std::string, NodeId> group_of_key;
  for (NodeId n : v.kept) {
    if (n.kind != NodeKind::fiber) continue;
    NodeId rep = n;
    const bool special = g.deadlocked().count(n) != 0 || g.stalled().count(n) != 0;
    if (options.collapse && !special) {
      // Nodes are visited in id order, so the first of a group is its smallest id.
      rep = group_of_key.emplace(collapse_key(g, *g.fiber(n.id)), n).first->second;
    }
    v.representative[n] = rep;
    v.members[rep].push_back(n.id);
  }
  return v;
}

}  // namespace tether::viz::detail
