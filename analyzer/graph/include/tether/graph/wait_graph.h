// tether/graph/wait_graph.h — an indexed, queryable view of a Snapshot.
//
// A WaitGraph owns a validated Snapshot and adds what the viz and the
// analyzers need to walk it: lookup of any node by NodeId, the edges in and
// out of each node, the set of nodes each deadlock covers, and a search for
// wait cycles (strongly connected components over waits_for / held_by /
// occupies edges) that the offline analyzer uses when a trace carries no
// detector verdicts. Nodes are kept sorted by NodeId, so every iteration
// order is deterministic: the same snapshot always walks the same way.
//
// Construction expects a Snapshot that passed snapshot_reader's validation;
// handing it an unvalidated one with dangling NodeIds throws
// std::invalid_argument (never undefined behaviour).
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <vector>

#include "tether/graph/snapshot.h"

namespace tether::graph {

class WaitGraph {
 public:
  explicit WaitGraph(Snapshot snapshot);

  const Snapshot& snapshot() const noexcept { return snap_; }

  // All nodes (threads, their in-flight syscalls, fibers, objects), sorted.
  const std::vector<NodeId>& nodes() const noexcept { return nodes_; }
  bool contains(NodeId n) const { return index_.count(n) != 0; }

  // nullptr when `n` is not of that kind or does not exist.
  const Thread* thread(std::uint64_t id) const;
  const Fiber* fiber(std::uint64_t id) const;
  const Object* object(NodeId n) const;  // chan, mutex, ... nodes only

  // Indices into snapshot().edges, in input order.
  const std::vector<std::size_t>& out_edges(NodeId n) const;
  const std::vector<std::size_t>& in_edges(NodeId n) const;

  // Nodes named by any deadlock of the given severity class.
  // "stall" is a warning, every other kind a deadlock.
  const std::set<NodeId>& deadlocked() const noexcept { return deadlocked_; }
  const std::set<NodeId>& stalled() const noexcept { return stalled_; }
  // True when both ends of edge `e` belong to one and the same deadlock (or stall).
  bool edge_in_deadlock(std::size_t e) const;
  bool edge_in_stall(std::size_t e) const;

  // Wait cycles: every strongly connected component of two or more nodes, or
  // of one node with an edge to itself, over waits_for / held_by / occupies
  // edges (locked_to is structure, not waiting; an `occupies` edge counts
  // backwards: the thread waits for the fiber occupying it). Each cycle is sorted; the
  // list is sorted. A cycle is necessary, not sufficient, for a deadlock: a
  // channel waiter in a cycle may still be woken by a fiber outside it.
  std::vector<std::vector<NodeId>> cycles() const;

 private:
  struct Entry {
    std::size_t table_index = 0;  // into threads / fibers / objects
    std::vector<std::size_t> out, in;
  };
  bool edge_in(const std::vector<std::set<NodeId>>& sets, std::size_t e) const;

  Snapshot snap_;
  std::vector<NodeId> nodes_;
  std::map<NodeId, Entry> index_;
  std::set<NodeId> deadlocked_, stalled_;
  std::vector<std::set<NodeId>> deadlock_sets_, stall_sets_;
};

}  // namespace tether::graph
