// WaitGraph: indexes a validated Snapshot (tether/graph/wait_graph.h).
#include "tether/graph/wait_graph.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <utility>

namespace tether::graph {
namespace {

const std::vector<std::size_t> kNoEdges;

}  // namespace

WaitGraph::WaitGraph(Snapshot snapshot) : snap_(std::move(snapshot)) {
  auto add = [this](NodeId n, std::size_t table_index) {
    if (!index_.emplace(n, Entry{table_index, {}, {}}).second) {
      throw std::invalid_argument("duplicate node " + n.str());
    }
  };
  for (std::size_t i = 0; i < snap_.threads.size(); ++i) {
    add(NodeId{NodeKind::thread, snap_.threads[i].id}, i);
    if (snap_.threads[i].syscall) add(NodeId{NodeKind::syscall, snap_.threads[i].id}, i);
  }
  for (std::size_t i = 0; i < snap_.fibers.size(); ++i)
    add(NodeId{NodeKind::fiber, snap_.fibers[i].id}, i);
  for (std::size_t i = 0; i < snap_.objects.size(); ++i) add(snap_.objects[i].node(), i);
  nodes_.reserve(index_.size());
  for (const auto& [n, entry] : index_) nodes_.push_back(n);

  for (std::size_t e = 0; e < snap_.edges.size(); ++e) {
    const Edge& edge = snap_.edges[e];
    auto from = index_.find(edge.from);
    auto to = index_.find(edge.to);
    if (from == index_.end() || to == index_.end()) {
      throw std::invalid_argument("edge " + edge.from.str() + " -> " + edge.to.str() +
                                  " names a missing node");
    }
    from->second.out.push_back(e);
    to->second.in.push_back(e);
  }
  for (const Deadlock& d : snap_.deadlocks) {
    std::set<NodeId> members;
    for (NodeId n : d.nodes) {
      if (!contains(n)) throw std::invalid_argument("deadlock names missing node " + n.str());
      members.insert(n);
    }
    const bool stall = d.kind == "stall";
    (stall ? stalled_ : deadlocked_).insert(members.begin(), members.end());
    (stall ? stall_sets_ : deadlock_sets_).push_back(std::move(members));
  }
}

const Thread* WaitGraph::thread(std::uint64_t id) const {
  auto it = index_.find(NodeId{NodeKind::thread, id});
  return it == index_.end() ? nullptr : &snap_.threads[it->second.table_index];
}

const Fiber* WaitGraph::fiber(std::uint64_t id) const {
  auto it = index_.find(NodeId{NodeKind::fiber, id});
  return it == index_.end() ? nullptr : &snap_.fibers[it->second.table_index];
}

const Object* WaitGraph::object(NodeId n) const {
  if (n.kind == NodeKind::thread || n.kind == NodeKind::syscall || n.kind == NodeKind::fiber) {
    return nullptr;
  }
  auto it = index_.find(n);
  return it == index_.end() ? nullptr : &snap_.objects[it->second.table_index];
}

const std::vector<std::size_t>& WaitGraph::out_edges(NodeId n) const {
  auto it = index_.find(n);
  return it == index_.end() ? kNoEdges : it->second.out;
}

const std::vector<std::size_t>& WaitGraph::in_edges(NodeId n) const {
  auto it = index_.find(n);
  return it == index_.end() ? kNoEdges : it->second.in;
}

bool WaitGraph::edge_in(const std::vector<std::set<NodeId>>& sets, std::size_t e) const {
  const Edge& edge = snap_.edges.at(e);
  return std::any_of(sets.begin(), sets.end(), [&](const std::set<NodeId>& s) {
    return s.count(edge.from) != 0 && s.count(edge.to) != 0;
  });
}

bool WaitGraph::edge_in_deadlock(std::size_t e) const {
  return edge_in(deadlock_sets_, e);
}
bool WaitGraph::edge_in_stall(std::size_t e) const {
  return edge_in(stall_sets_, e);
}

std::vector<std::vector<NodeId>> WaitGraph::cycles() const {
  // Tarjan's algorithm, iterative so that a 10k-long wait chain cannot
  // overflow the stack.
  const std::size_t n = nodes_.size();
  std::map<NodeId, std::size_t> pos;
  for (std::size_t i = 0; i < n; ++i) pos.emplace(nodes_[i], i);
  std::vector<std::vector<std::size_t>> adj(n);
  std::vector<bool> self_loop(n, false);
  for (const Edge& e : snap_.edges) {
    if (e.kind == EdgeKind::locked_to) continue;
    // "A occupies thread T" means T cannot run anything else until A lets
    // go: for waiting, T depends on A.
    std::size_t a = pos.at(e.from), b = pos.at(e.to);
    if (e.kind == EdgeKind::occupies) std::swap(a, b);
    adj[a].push_back(b);
    if (a == b) self_loop[a] = true;
  }
  constexpr std::size_t kUnvisited = static_cast<std::size_t>(-1);
  std::vector<std::size_t> index(n, kUnvisited), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<std::size_t> stack;
  std::vector<std::vector<NodeId>> out;
  std::size_t counter = 0;
  struct Frame {
    std::size_t v, next;
  };
  for (std::size_t root = 0; root < n; ++root) {
    if (index[root] != kUnvisited) continue;
    std::vector<Frame> call{{root, 0}};
    index[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!call.empty()) {
      Frame& f = call.back();
      if (f.next < adj[f.v].size()) {
        const std::size_t w = adj[f.v][f.next++];
        if (index[w] == kUnvisited) {
          index[w] = low[w] = counter++;
          stack.push_back(w);
          on_stack[w] = true;
          call.push_back({w, 0});
        } else if (on_stack[w]) {
          low[f.v] = std::min(low[f.v], index[w]);
        }
        continue;
      }
      const std::size_t v = f.v;
      call.pop_back();
      if (!call.empty()) low[call.back().v] = std::min(low[call.back().v], low[v]);
      if (low[v] != index[v]) continue;
      std::vector<NodeId> component;
      std::size_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        component.push_back(nodes_[w]);
      } while (w != v);
      if (component.size() > 1 || self_loop[v]) {
        std::sort(component.begin(), component.end());
        out.push_back(std::move(component));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tether::graph
