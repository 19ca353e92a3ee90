// tether/viz/dot_writer.h — a wait-for graph as Graphviz DOT text.
//
// to_dot() draws a WaitGraph (analyzer/graph) the way issue 5 asks:
//   - one shape per node kind: fiber = ellipse, OS thread = box3d, in-flight
//     syscall = parallelogram, chan = cds, mutex = octagon, rwmutex =
//     doubleoctagon, cond_var = invhouse, wait_group = house, once = diamond;
//   - one cluster per OS thread holding the thread, its syscall and every
//     fiber locked to it, so N fibers sharing a thread are seen at a glance
//     (locked_to edges are therefore not drawn: the cluster says it);
//   - edges labelled "waits for" / "held by" / "occupies" with how long the
//     wait has lasted at the snapshot's time;
//   - every node and edge of a deadlock red and bold, of a stall orange;
//   - a legend, and a graph label listing each deadlock and its explanation;
//   - each node's tooltip carries the full story: wait state and duration,
//     object, lock/thread, stack, wait site, creation site and parent.
//
// Determinism: the text is a pure function of the snapshot and the options —
// nodes, clusters and edges are emitted in NodeId order, numbers are
// formatted without locale — so golden files can compare it byte for byte.
//
// Size: with `collapse` (the default) fibers that are identical (same state,
// object, lock, stack, wait site and the same edges in and out) become one
// node labelled with their count; fibers named by a deadlock or stall never
// collapse. With `focus`, only the nodes of deadlocks/stalls and their direct
// neighbours are kept (plus the threads those fibers are locked to); a
// snapshot without any deadlock or stall is drawn whole, and says so.
#pragma once

#include <string>

#include "tether/graph/wait_graph.h"

namespace tether::viz {

struct DotOptions {
  bool collapse = true;  // merge identical fibers into one node with a count
  bool focus = false;    // keep only deadlocked/stalled nodes and their neighbours
  bool legend = true;    // draw the legend cluster
};

std::string to_dot(const graph::WaitGraph& g, const DotOptions& options = {});

}  // namespace tether::viz
