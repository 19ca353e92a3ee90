// Tests of the DOT writer: shapes, clusters, the red cycle, collapse, focus,
// determinism. (Golden files per test case are in golden_test.cpp.)
#include "tether/viz/dot_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tether/graph/snapshot_reader.h"

namespace tether::viz {
namespace {

graph::WaitGraph load(const std::string& name) {
  return graph::WaitGraph(
      graph::read_snapshot(std::string(TETHER_VIZ_CASES_DIR "/snapshots/") + name + ".json"));
}

// The attribute list of node `id` ("" if the node is not drawn).
std::string node_attrs(const std::string& dot, const std::string& id) {
  const std::string head = "\"" + id + "\" [";
  const auto at = dot.find(head);
  if (at == std::string::npos) return "";
  return dot.substr(at, dot.find("];\n", at) - at);
}

std::string edge_attrs(const std::string& dot, const std::string& from, const std::string& to) {
  const std::string head = "\"" + from + "\" -> \"" + to + "\" [";
  const auto at = dot.find(head);
  if (at == std::string::npos) return "";
  return dot.substr(at, dot.find("];\n", at) - at);
}

TEST(DotWriter, ShapesPerKind) {
  const std::string dot = to_dot(load("shared_thread_syscall"));
  EXPECT_NE(node_attrs(dot, "fiber:7").find("shape=ellipse"), std::string::npos);
  EXPECT_NE(node_attrs(dot, "thread:10").find("shape=box3d"), std::string::npos);
  EXPECT_NE(node_attrs(dot, "syscall:10").find("shape=parallelogram"), std::string::npos);
  EXPECT_NE(node_attrs(dot, "wait_group:90").find("shape=house"), std::string::npos);
  const std::string g = to_dot(load("global"));
  EXPECT_NE(node_attrs(g, "chan:20").find("shape=cds"), std::string::npos);
  EXPECT_NE(node_attrs(g, "mutex:21").find("shape=octagon"), std::string::npos);
}

TEST(DotWriter, LockedFibersInsideTheirThreadCluster) {
  const std::string dot = to_dot(load("shared_thread_syscall"));
  const auto open = dot.find("subgraph \"cluster_thread:10\"");
  ASSERT_NE(open, std::string::npos);
  const auto close = dot.find("\n  }\n", open);
  const std::string cluster = dot.substr(open, close - open);
  EXPECT_NE(cluster.find("\"fiber:7\" ["), std::string::npos);
  EXPECT_NE(cluster.find("\"fiber:8\" ["), std::string::npos);
  EXPECT_NE(cluster.find("\"syscall:10\" ["), std::string::npos);
  EXPECT_EQ(cluster.find("\"fiber:1\" ["), std::string::npos);  // locked to main
  EXPECT_NE(cluster.find("2 fibers locked"), std::string::npos);
  // The near miss puts the writer on its own thread "io".
  const std::string near = to_dot(load("shared_thread_syscall_near"));
  const auto io = near.find("subgraph \"cluster_thread:11\"");
  ASSERT_NE(io, std::string::npos);
  EXPECT_LT(near.find("\"fiber:8\" [", io), near.find("\n  }\n", io));
}

TEST(DotWriter, DeadlockRedAndBoldNearMissNot) {
  const std::string dot = to_dot(load("lock_cycle"));
  for (const char* n : {"fiber:3", "fiber:4", "mutex:30", "mutex:31"}) {
    EXPECT_NE(node_attrs(dot, n).find("color=\"#d00000\", penwidth=3"), std::string::npos) << n;
  }
  EXPECT_NE(edge_attrs(dot, "fiber:3", "mutex:31").find("color=\"#d00000\""), std::string::npos);
  EXPECT_NE(edge_attrs(dot, "mutex:31", "fiber:4").find("penwidth=3"), std::string::npos);
  EXPECT_EQ(node_attrs(dot, "fiber:1").find("#d00000"), std::string::npos);
  EXPECT_NE(dot.find("DEADLOCK (lock-cycle)"), std::string::npos);
  const std::string near = to_dot(load("lock_cycle_near"));
  EXPECT_EQ(near.find("penwidth=3"), std::string::npos);
  EXPECT_NE(near.find("no deadlock or stall recorded"), std::string::npos);
}

TEST(DotWriter, StallIsOrange) {
  const std::string dot = to_dot(load("stall"));
  EXPECT_NE(node_attrs(dot, "fiber:13").find("#e67e00"), std::string::npos);
  EXPECT_NE(dot.find("STALL (stall)"), std::string::npos);
  EXPECT_EQ(dot.find("#d00000\", penwidth"), std::string::npos);
}

TEST(DotWriter, EdgeLabelsWithDurations) {
  const std::string dot = to_dot(load("shared_thread_syscall"));
  EXPECT_NE(edge_attrs(dot, "fiber:7", "syscall:10").find("label=\"waits for\\n3.0 s\""),
            std::string::npos);
  EXPECT_NE(edge_attrs(dot, "fiber:7", "thread:10").find("label=\"occupies\\n3.0 s\""),
            std::string::npos);
  EXPECT_NE(edge_attrs(to_dot(load("lock_cycle")), "mutex:30", "fiber:3")
                .find("label=\"held by\\n2.0 s\""),
            std::string::npos);
  EXPECT_EQ(dot.find("locked to\\n"), std::string::npos);  // clusters show locking
}

TEST(DotWriter, TooltipHasStateStackAndCreationSite) {
  const std::string attrs = node_attrs(to_dot(load("shared_thread_syscall")), "fiber:7");
  EXPECT_NE(attrs.find("state: syscall for 3.0 s"), std::string::npos) << attrs;
  EXPECT_NE(
      attrs.find("stack:\\n  tether::sys::read(int, void*, unsigned long)  src/gl_worker.cpp:31"),
      std::string::npos)
      << attrs;
  EXPECT_NE(attrs.find("created at main  src/main.cpp:27 by fiber 1"), std::string::npos) << attrs;
  EXPECT_NE(attrs.find("locked to: thread \\\"gl\\\""), std::string::npos) << attrs;
}

TEST(DotWriter, CollapsesIdenticalFibers) {
  const graph::WaitGraph g = load("self_request");
  const std::string dot = to_dot(g);
  EXPECT_NE(node_attrs(dot, "fiber:11").find("5 fibers \\\"client\\\""), std::string::npos);
  EXPECT_NE(node_attrs(dot, "fiber:11").find("peripheries=2"), std::string::npos);
  for (const char* n : {"fiber:12", "fiber:13", "fiber:14", "fiber:15"})
    EXPECT_EQ(node_attrs(dot, n), "") << n;
  EXPECT_NE(edge_attrs(dot, "fiber:11", "chan:50"), "");
  EXPECT_NE(dot.find("identical fibers collapsed: 7 fibers in 3 nodes"), std::string::npos);

  DotOptions all;
  all.collapse = false;
  const std::string full = to_dot(g, all);
  for (const char* n : {"fiber:11", "fiber:12", "fiber:13", "fiber:14", "fiber:15"}) {
    EXPECT_NE(node_attrs(full, n), "") << n;
  }
  EXPECT_EQ(full.find("identical fibers collapsed"), std::string::npos);
}

TEST(DotWriter, DeadlockedFibersNeverCollapse) {
  // Fibers 14 and 15 of stall.json differ only in their stacks' line
  // numbers; make them identical. Both are in the stall, so neither collapses.
  graph::Snapshot s = load("stall").snapshot();
  ASSERT_EQ(s.fibers[3].id, 15u);
  s.fibers[3].stack = s.fibers[2].stack;
  s.fibers[3].site = s.fibers[2].site;
  const std::string dot = to_dot(graph::WaitGraph(s));
  EXPECT_NE(node_attrs(dot, "fiber:14"), "");
  EXPECT_NE(node_attrs(dot, "fiber:15"), "");
  s.deadlocks.clear();
  const std::string plain = to_dot(graph::WaitGraph(s));
  EXPECT_EQ(node_attrs(plain, "fiber:15"), "");
  EXPECT_NE(node_attrs(plain, "fiber:14").find("2 fibers"), std::string::npos);
}

TEST(DotWriter, FocusKeepsDeadlockAndNeighbours) {
  DotOptions focus;
  focus.focus = true;
  const std::string dot = to_dot(load("global"), focus);
  EXPECT_NE(node_attrs(dot, "fiber:1"), "");
  EXPECT_NE(node_attrs(dot, "thread:1"), "");  // fiber 1 is locked to main
  EXPECT_EQ(node_attrs(dot, "thread:2"), "");  // idle pool thread: not a neighbour
  EXPECT_NE(dot.find("--focus: 5 of 7 nodes shown"), std::string::npos);
  const std::string near = to_dot(load("global_near"), focus);
  EXPECT_NE(node_attrs(near, "thread:2"), "");
  EXPECT_NE(near.find("nothing to focus on"), std::string::npos);
}

TEST(DotWriter, Deterministic) {
  const graph::WaitGraph g = load("self_request");
  EXPECT_EQ(to_dot(g), to_dot(g));
  // Reordering the input's tables does not change the drawing.
  graph::Snapshot s = g.snapshot();
  std::reverse(s.fibers.begin(), s.fibers.end());
  std::reverse(s.objects.begin(), s.objects.end());
  std::reverse(s.threads.begin(), s.threads.end());
  std::reverse(s.edges.begin(), s.edges.end());
  EXPECT_EQ(to_dot(graph::WaitGraph(s)), to_dot(g));
}

TEST(DotWriter, HostileNamesStayInsideQuotes) {
  graph::Snapshot s = load("global").snapshot();
  s.fibers[0].name = "evil\"]; \"x\" -> \"y\\";
  s.objects[0].name = "new\nline";
  const std::string dot = to_dot(graph::WaitGraph(s));
  EXPECT_NE(dot.find("fiber 1 \\\"evil\\\"]; \\\"x\\\" -> \\\"y\\\\\\\""), std::string::npos);
  EXPECT_EQ(dot.find("\"x\" -> \"y\""), std::string::npos);
}

TEST(DotWriter, LegendHasEveryShape) {
  const std::string dot = to_dot(load("global"));
  for (const char* shape : {"ellipse", "box3d", "parallelogram", "cds", "octagon", "doubleoctagon",
                            "invhouse", "house", "diamond"}) {
    EXPECT_NE(dot.find(std::string("[shape=") + shape + ", label="), std::string::npos) << shape;
  }
  DotOptions no_legend;
  no_legend.legend = false;
  EXPECT_EQ(to_dot(load("global"), no_legend).find("cluster_legend"), std::string::npos);
}

}  // namespace
}  // namespace tether::viz
