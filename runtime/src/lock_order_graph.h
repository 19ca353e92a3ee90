// LockOrderGraph: a directed graph kept acyclic as edges arrive (internal).
//
// The lock-order tracker (lock_order.h) adds an edge held -> acquired each
// time a fiber takes a lock while holding another. A lock-order inversion is
// an edge that would close a cycle: insert_edge() refuses it (the graph stays
// acyclic) and find_path() gives the existing path that it would close.
//
// Nodes are keyed by 64-bit object ids, which the runtime never reuses, so a
// lock destroyed and another allocated at the same address never inherit each
// other's order (a common source of false reports in address-keyed tools).
//
// Cycle check: Pearce & Kelly's dynamic topological order ("A dynamic
// topological sort algorithm for directed acyclic graphs", JEA 2007), as in
// Abseil's graphcycles. Every node has a rank; every edge goes from a lower to
// a higher rank. An edge x -> y with rank(x) < rank(y) costs nothing more.
// Otherwise only the nodes with ranks between rank(y) and rank(x) are
// searched: forward from y (reaching x means a cycle), backward from x, and
// the ranks of the two visited sets are reassigned so the order holds again.
//
// Not thread-safe: the tracker serializes every call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tether::detail {

class LockOrderGraph {
 public:
  // Adds from -> to, creating either node if needed. Returns false, changing
  // nothing but node creation, if `to` already reaches `from` (the edge would
  // close a cycle). A self edge (from == to) is refused too: a lock taken
  // again by its holder is the online detector's business, not an order.
  bool insert_edge(std::uint64_t from, std::uint64_t to);
  bool has_edge(std::uint64_t from, std::uint64_t to) const;
  void remove_edge(std::uint64_t from, std::uint64_t to);
  // Removes a node and its edges (the lock was destroyed). Unknown ids are ignored.
  void remove_node(std::uint64_t key);
  bool has_node(std::uint64_t key) const { return index_.count(key) != 0; }

  // A shortest path from -> to as the list of its nodes (both ends
  // included), or empty if there is none or it has more than max_nodes nodes.
  std::vector<std::uint64_t> find_path(std::uint64_t from, std::uint64_t to,
                                       std::size_t max_nodes) const;
  bool reachable(std::uint64_t from, std::uint64_t to) const;

  std::size_t node_count() const { return index_.size(); }
  std::size_t edge_count() const { return edges_; }
  // For tests: every edge goes from a lower to a higher rank, ranks are unique.
  bool check_invariants() const;

 private:
  struct Node {
    std::uint64_t key = 0;
    std::int64_t rank = 0;
    bool visited = false;
    bool live = false;
    std::unordered_set<std::int32_t> out, in;
  };
  std::int32_t node_for(std::uint64_t key);
  std::int32_t find(std::uint64_t key) const;
  bool forward(std::int32_t n, std::int64_t upper);  // false: reached rank `upper`
  void backward(std::int32_t n, std::int64_t lower);
  void reorder();
  void clear_visited();

  std::vector<Node> nodes_;
  std::vector<std::int32_t> free_;
  std::unordered_map<std::uint64_t, std::int32_t> index_;
  std::int64_t next_rank_ = 0;
  std::size_t edges_ = 0;
  // Scratch for one insert_edge().
  std::vector<std::int32_t> deltaf_, deltab_, stack_;
};

}  // namespace tether::detail
