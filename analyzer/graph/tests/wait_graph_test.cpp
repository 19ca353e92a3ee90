// Tests of the WaitGraph index and its cycle search.
#include "tether/graph/wait_graph.h"

#include <gtest/gtest.h>

#include "tether/graph/snapshot_reader.h"

namespace tether::graph {
namespace {

NodeId id(const char* s) {
  return *parse_node_id(s);
}

Fiber fiber_with_id(std::uint64_t n) {
  Fiber f;
  f.id = n;
  return f;
}

Snapshot read_case(const std::string& name) {
  return read_snapshot(std::string(TETHER_VIZ_CASES_DIR "/snapshots/") + name + ".json");
}

TEST(NodeIdTest, ParseAndPrint) {
  EXPECT_EQ(id("fiber:7"), (NodeId{NodeKind::fiber, 7}));
  EXPECT_EQ(id("wait_group:0").str(), "wait_group:0");
  EXPECT_FALSE(parse_node_id("fiber:"));
  EXPECT_FALSE(parse_node_id("fiber:07"));
  EXPECT_FALSE(parse_node_id("fiber:-1"));
  EXPECT_FALSE(parse_node_id("fiber:1x"));
  EXPECT_FALSE(parse_node_id("goroutine:1"));
  EXPECT_FALSE(parse_node_id("fiber:99999999999999999999999"));
  EXPECT_FALSE(parse_node_id("fiber7"));
}

TEST(WaitGraphTest, IndexesNodesAndEdges) {
  WaitGraph g(read_case("shared_thread_syscall"));
  EXPECT_TRUE(g.contains(id("syscall:10")));
  EXPECT_FALSE(g.contains(id("syscall:11")));  // thread 11 has no call in flight
  ASSERT_NE(g.fiber(7), nullptr);
  EXPECT_EQ(g.fiber(7)->name, "reader");
  EXPECT_EQ(g.thread(10)->name, "gl");
  EXPECT_EQ(g.object(id("wait_group:90"))->count, 2);
  EXPECT_EQ(g.object(id("fiber:7")), nullptr);
  EXPECT_EQ(g.out_edges(id("fiber:7")).size(), 3u);
  EXPECT_TRUE(std::is_sorted(g.nodes().begin(), g.nodes().end()));
  EXPECT_EQ(g.deadlocked().count(id("fiber:8")), 1u);
  EXPECT_EQ(g.deadlocked().count(id("fiber:1")), 0u);
}

TEST(WaitGraphTest, EdgesInDeadlock) {
  WaitGraph g(read_case("lock_cycle"));
  int in = 0;
  for (std::size_t e = 0; e < g.snapshot().edges.size(); ++e) in += g.edge_in_deadlock(e);
  EXPECT_EQ(in, 4);  // the two waits and the two held_by edges of the AB-BA cycle
}

TEST(WaitGraphTest, CyclesFindLockCycleNotNearMiss) {
  const auto cycles = WaitGraph(read_case("lock_cycle")).cycles();
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_EQ(cycles[0],
            (std::vector<NodeId>{id("fiber:3"), id("fiber:4"), id("mutex:30"), id("mutex:31")}));
  EXPECT_TRUE(WaitGraph(read_case("lock_cycle_near")).cycles().empty());
}

TEST(WaitGraphTest, OccupiesClosesTheSyscallCycle) {
  // fiber 61 waits for thread 10, which fiber 60 occupies in waitpid(), which waits for fiber 61.
  const auto cycles = WaitGraph(read_case("call_self")).cycles();
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_EQ(cycles[0], (std::vector<NodeId>{id("thread:10"), id("syscall:10"), id("fiber:60"),
                                            id("fiber:61")}));
}

TEST(WaitGraphTest, RejectsDanglingEdgeWithoutUB) {
  Snapshot s;
  s.fibers.push_back(fiber_with_id(1));
  s.edges.push_back(Edge{id("fiber:1"), id("chan:2"), EdgeKind::waits_for, std::nullopt});
  EXPECT_THROW(WaitGraph{s}, std::invalid_argument);
}

TEST(WaitGraphTest, LongChainDoesNotOverflowStack) {
  Snapshot s;
  constexpr std::uint64_t kN = 200000;
  for (std::uint64_t i = 1; i <= kN; ++i) {
    s.fibers.push_back(fiber_with_id(i));
    if (i > 1)
      s.edges.push_back(Edge{
          NodeId{NodeKind::fiber, i - 1}, NodeId{NodeKind::fiber, i}, EdgeKind::waits_for, {}});
  }
  s.edges.push_back(
      Edge{NodeId{NodeKind::fiber, kN}, NodeId{NodeKind::fiber, 1}, EdgeKind::waits_for, {}});
  const auto cycles = WaitGraph(std::move(s)).cycles();
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_EQ(cycles[0].size(), kN);
}

}  // namespace
}  // namespace tether::graph
