#include "lock_order_graph.h"

#include <algorithm>
#include <deque>

namespace tether::detail {

std::int32_t LockOrderGraph::find(std::uint64_t key) const {
  auto it = index_.find(key);
  return it == index_.end() ? -1 : it->second;
}

std::int32_t LockOrderGraph::node_for(std::uint64_t key) {
  auto it = index_.find(key);
  if (it != index_.end()) return it->second;
  std::int32_t n;
  if (!free_.empty()) {
    n = free_.back();
    free_.pop_back();
  } else {
    n = static_cast<std::int32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& node = nodes_[static_cast<std::size_t>(n)];
  node.key = key;
  node.rank = next_rank_++;  // a new node has no edges: any rank is consistent
  node.visited = false;
  node.live = true;
  index_.emplace(key, n);
  return n;
}

bool LockOrderGraph::has_edge(std::uint64_t from, std::uint64_t to) const {
  const std::int32_t x = find(from), y = find(to);
  return x >= 0 && y >= 0 && nodes_[static_cast<std::size_t>(x)].out.count(y) != 0;
}

bool LockOrderGraph::insert_edge(std::uint64_t from, std::uint64_t to) {
  if (from == to) return false;
  const std::int32_t x = node_for(from);
  const std::int32_t y = node_for(to);
  Node& nx = nodes_[static_cast<std::size_t>(x)];
  Node& ny = nodes_[static_cast<std::size_t>(y)];
  if (nx.out.count(y)) return true;
  if (nx.rank < ny.rank) {
    nx.out.insert(y);
    ny.in.insert(x);
    ++edges_;
    return true;
  }
  // y comes before x in the order: search the nodes ranked between them.
  const std::int64_t upper = nx.rank, lower = ny.rank;
  if (!forward(y, upper)) {
    clear_visited();
    return false;  // y reaches x: x -> y would close a cycle
  }
  backward(x, lower);
  reorder();
  nodes_[static_cast<std::size_t>(x)].out.insert(y);
  nodes_[static_cast<std::size_t>(y)].in.insert(x);
  ++edges_;
  return true;
}

bool LockOrderGraph::forward(std::int32_t n, std::int64_t upper) {
  deltaf_.clear();
  stack_.assign(1, n);
  while (!stack_.empty()) {
    const std::int32_t v = stack_.back();
    stack_.pop_back();
    Node& nv = nodes_[static_cast<std::size_t>(v)];
    if (nv.visited) continue;
    nv.visited = true;
    deltaf_.push_back(v);
    for (std::int32_t w : nv.out) {
      const Node& nw = nodes_[static_cast<std::size_t>(w)];
      if (nw.rank == upper) return false;
      if (!nw.visited && nw.rank < upper) stack_.push_back(w);
    }
  }
  return true;
}

void LockOrderGraph::backward(std::int32_t n, std::int64_t lower) {
  deltab_.clear();
  stack_.assign(1, n);
  while (!stack_.empty()) {
    const std::int32_t v = stack_.back();
    stack_.pop_back();
    Node& nv = nodes_[static_cast<std::size_t>(v)];
    if (nv.visited) continue;
    nv.visited = true;
    deltab_.push_back(v);
    for (std::int32_t w : nv.in) {
      const Node& nw = nodes_[static_cast<std::size_t>(w)];
      if (!nw.visited && nw.rank > lower) stack_.push_back(w);
    }
  }
}

// Gives the backward set (what must come before x) the lowest of the ranks
// both sets held, in their old relative order, and the forward set (what
// must come after y) the rest.
void LockOrderGraph::reorder() {
  auto by_rank = [this](std::int32_t a, std::int32_t b) {
    return nodes_[static_cast<std::size_t>(a)].rank < nodes_[static_cast<std::size_t>(b)].rank;
  };
  std::sort(deltab_.begin(), deltab_.end(), by_rank);
  std::sort(deltaf_.begin(), deltaf_.end(), by_rank);
  std::vector<std::int32_t> order = deltab_;
  order.insert(order.end(), deltaf_.begin(), deltaf_.end());
  std::vector<std::int64_t> ranks;
  ranks.reserve(order.size());
  for (std::int32_t n : order) ranks.push_back(nodes_[static_cast<std::size_t>(n)].rank);
  std::sort(ranks.begin(), ranks.end());
  for (std::size_t i = 0; i < order.size(); ++i) {
    Node& n = nodes_[static_cast<std::size_t>(order[i])];
    n.rank = ranks[i];
    n.visited = false;
  }
  deltab_.clear();
  deltaf_.clear();
}

void LockOrderGraph::clear_visited() {
  for (std::int32_t n : deltaf_) nodes_[static_cast<std::size_t>(n)].visited = false;
  for (std::int32_t n : deltab_) nodes_[static_cast<std::size_t>(n)].visited = false;
  deltaf_.clear();
  deltab_.clear();
}

void LockOrderGraph::remove_edge(std::uint64_t from, std::uint64_t to) {
  const std::int32_t x = find(from), y = find(to);
  if (x < 0 || y < 0) return;
  if (nodes_[static_cast<std::size_t>(x)].out.erase(y)) {
    nodes_[static_cast<std::size_t>(y)].in.erase(x);
    --edges_;
  }
}

void LockOrderGraph::remove_node(std::uint64_t key) {
  const std::int32_t x = find(key);
  if (x < 0) return;
  Node& n = nodes_[static_cast<std::size_t>(x)];
  for (std::int32_t w : n.out) nodes_[static_cast<std::size_t>(w)].in.erase(x);
  for (std::int32_t w : n.in) nodes_[static_cast<std::size_t>(w)].out.erase(x);
  edges_ -= n.out.size() + n.in.size();
  n.out.clear();
  n.in.clear();
  n.live = false;
  index_.erase(key);
  free_.push_back(x);
}

std::vector<std::uint64_t> LockOrderGraph::find_path(std::uint64_t from, std::uint64_t to,
                                                     std::size_t max_nodes) const {
  const std::int32_t x = find(from), y = find(to);
  if (x < 0 || y < 0 || max_nodes == 0) return {};
  if (x == y) return {from};
  // Breadth first, so the report shows a shortest cycle. Every path from x to
  // y stays within their ranks (the order is topological): prune the rest.
  const std::int64_t hi = nodes_[static_cast<std::size_t>(y)].rank;
  std::unordered_map<std::int32_t, std::int32_t> parent{{x, -1}};
  std::unordered_map<std::int32_t, std::size_t> depth{{x, 1}};
  std::deque<std::int32_t> q{x};
  while (!q.empty()) {
    const std::int32_t v = q.front();
    q.pop_front();
    if (v == y) break;
    if (depth[v] >= max_nodes) continue;
    for (std::int32_t w : nodes_[static_cast<std::size_t>(v)].out) {
      if (parent.count(w) || nodes_[static_cast<std::size_t>(w)].rank > hi) continue;
      parent[w] = v;
      depth[w] = depth[v] + 1;
      q.push_back(w);
    }
  }
  if (!parent.count(y)) return {};
  std::vector<std::uint64_t> path;
  for (std::int32_t v = y; v >= 0; v = parent[v]) path.push_back(nodes_[static_cast<std::size_t>(v)].key);
  std::reverse(path.begin(), path.end());
  return path.size() <= max_nodes ? path : std::vector<std::uint64_t>{};
}

bool LockOrderGraph::reachable(std::uint64_t from, std::uint64_t to) const {
  return !find_path(from, to, ~std::size_t{0}).empty();
}

bool LockOrderGraph::check_invariants() const {
  std::unordered_set<std::int64_t> ranks;
  std::size_t edges = 0;
  for (const auto& [key, n] : index_) {
    const Node& node = nodes_[static_cast<std::size_t>(n)];
    if (!node.live || node.key != key || node.visited) return false;
    if (!ranks.insert(node.rank).second) return false;
    for (std::int32_t w : node.out) {
      const Node& nw = nodes_[static_cast<std::size_t>(w)];
      if (!nw.live || nw.rank <= node.rank || !nw.in.count(n)) return false;
      ++edges;
    }
  }
  return edges == edges_;
}

}  // namespace tether::detail
