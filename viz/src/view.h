// What the DOT writer draws: the nodes kept by --focus and the fiber groups
// formed by collapsing identical fibers. Internal to tether_viz.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "tether/graph/wait_graph.h"
#include "tether/viz/dot_writer.h"

namespace tether::viz::detail {

struct View {
  std::set<graph::NodeId> kept;  // every node to draw (fibers: all members, not just groups)
  // For each kept fiber, the fiber that stands for its group (the smallest id).
  std::map<graph::NodeId, graph::NodeId> representative;
  // For each representative, the ids of its group's fibers, sorted.
  std::map<graph::NodeId, std::vector<std::uint64_t>> members;
  bool focused = false;  // focus was asked for and applied (there was something to focus on)

  graph::NodeId rep(graph::NodeId n) const {
    auto it = representative.find(n);
    return it == representative.end() ? n : it->second;
  }
};

View make_view(const graph::WaitGraph& g, const DotOptions& options);

}  // namespace tether::viz::detail
