// LockOrderGraph against a naive model (as Abseil's graphcycles_test): random
// operation sequences, and after each one the same answers as a plain edge
// set searched by brute force.
#include "lock_order_graph.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace {

using tether::detail::LockOrderGraph;

// The model: an edge set; reachability by exhaustive search.
struct Naive {
  std::set<std::pair<std::uint64_t, std::uint64_t>> edges;
  std::set<std::uint64_t> nodes;

  bool reachable(std::uint64_t from, std::uint64_t to) const {
    if (from == to) return true;
    std::set<std::uint64_t> seen{from};
    std::vector<std::uint64_t> stack{from};
    while (!stack.empty()) {
      const std::uint64_t v = stack.back();
      stack.pop_back();
      for (auto it = edges.lower_bound({v, 0}); it != edges.end() && it->first == v; ++it) {
        if (it->second == to) return true;
        if (seen.insert(it->second).second) stack.push_back(it->second);
      }
    }
    return false;
  }
  // Length (in nodes) of a shortest path, 0 if none.
  std::size_t shortest(std::uint64_t from, std::uint64_t to) const {
    std::set<std::uint64_t> frontier{from}, seen{from};
    for (std::size_t len = 1; !frontier.empty(); ++len) {
      if (frontier.count(to)) return len;
      std::set<std::uint64_t> next;
      for (std::uint64_t v : frontier) {
        for (auto it = edges.lower_bound({v, 0}); it != edges.end() && it->first == v; ++it) {
          if (seen.insert(it->second).second) next.insert(it->second);
        }
      }
      frontier = std::move(next);
    }
    return 0;
  }
  void remove_node(std::uint64_t n) {
    nodes.erase(n);
    for (auto it = edges.begin(); it != edges.end();) {
      it = (it->first == n || it->second == n) ? edges.erase(it) : std::next(it);
    }
  }
};

// Checks a path returned by the graph: starts and ends right, every step an edge.
void expect_valid_path(const Naive& m, const std::vector<std::uint64_t>& path, std::uint64_t from,
                       std::uint64_t to) {
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(path.front(), from);
  EXPECT_EQ(path.back(), to);
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    EXPECT_TRUE(m.edges.count({path[i], path[i + 1]})) << path[i] << " -> " << path[i + 1];
  }
}

TEST(LockOrderGraph, TwoLocksBothOrders) {
  LockOrderGraph g;
  EXPECT_TRUE(g.insert_edge(3, 5));
  EXPECT_TRUE(g.insert_edge(3, 5));  // again: nothing new
  EXPECT_EQ(g.edge_count(), 1u);
  EXPECT_FALSE(g.insert_edge(5, 3));  // the inversion
  EXPECT_FALSE(g.has_edge(5, 3));
  EXPECT_EQ(g.find_path(3, 5, 10), (std::vector<std::uint64_t>{3, 5}));
  EXPECT_TRUE(g.check_invariants());
}

TEST(LockOrderGraph, SelfEdgeIsRefused) {
  LockOrderGraph g;
  EXPECT_FALSE(g.insert_edge(7, 7));
  EXPECT_EQ(g.edge_count(), 0u);
}

TEST(LockOrderGraph, LongCycleAndPathCap) {
  LockOrderGraph g;
  // Insert a chain backwards so every insertion has to reorder.
  for (std::uint64_t i = 10; i > 1; --i) ASSERT_TRUE(g.insert_edge(i - 1, i));
  EXPECT_TRUE(g.check_invariants());
  EXPECT_FALSE(g.insert_edge(10, 1));
  EXPECT_EQ(g.find_path(1, 10, 10).size(), 10u);
  EXPECT_TRUE(g.find_path(1, 10, 9).empty());  // capped: longer than allowed
  EXPECT_TRUE(g.insert_edge(1, 10));           // a shortcut is no cycle
  EXPECT_EQ(g.find_path(1, 10, 10), (std::vector<std::uint64_t>{1, 10}));
}

TEST(LockOrderGraph, RemovedNodeForgetsItsOrder) {
  LockOrderGraph g;
  ASSERT_TRUE(g.insert_edge(1, 2));
  ASSERT_TRUE(g.insert_edge(2, 3));
  EXPECT_FALSE(g.insert_edge(3, 1));
  g.remove_node(2);  // the lock in the middle was destroyed
  EXPECT_FALSE(g.has_node(2));
  EXPECT_TRUE(g.insert_edge(3, 1));
  EXPECT_TRUE(g.check_invariants());
  EXPECT_EQ(g.edge_count(), 1u);
}

// Random operations against the model. Many seeds, small node sets (so
// cycles are frequent), with node removal and edge removal mixed in.
TEST(LockOrderGraph, RandomOperationsMatchTheNaiveModel) {
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    LockOrderGraph g;
    Naive m;
    const std::uint64_t kNodes = 5 + seed % 20;
    std::uniform_int_distribution<std::uint64_t> node(1, kNodes);
    std::uniform_int_distribution<int> op(0, 99);
    for (int step = 0; step < 1500; ++step) {
      const int o = op(rng);
      const std::uint64_t a = node(rng), b = node(rng);
      if (o < 70) {
        const bool want = a != b && !m.reachable(b, a);
        const bool got = g.insert_edge(a, b);
        ASSERT_EQ(got, want) << "seed " << seed << " step " << step << ": " << a << " -> " << b;
        m.nodes.insert(a);
        m.nodes.insert(b);
        if (got) m.edges.insert({a, b});
      } else if (o < 80) {
        g.remove_edge(a, b);
        m.edges.erase({a, b});
      } else if (o < 85) {
        g.remove_node(a);
        m.remove_node(a);
      } else {
        ASSERT_EQ(g.has_edge(a, b), m.edges.count({a, b}) == 1);
        const std::size_t len = m.shortest(a, b);
        if (!g.has_node(a) || !g.has_node(b)) {
          EXPECT_TRUE(g.find_path(a, b, 100).empty());
          continue;
        }
        const auto path = g.find_path(a, b, 100);
        ASSERT_EQ(path.size(), len) << "seed " << seed << " step " << step << ": " << a
                                    << " ~> " << b;
        if (len > 0) {
          expect_valid_path(m, path, a, b);
        }
        if (len > 1) {
          EXPECT_TRUE(g.find_path(a, b, len - 1).empty());
        }
      }
      if (step % 100 == 0) {
        ASSERT_TRUE(g.check_invariants()) << "seed " << seed;
      }
    }
    ASSERT_TRUE(g.check_invariants());
    EXPECT_EQ(g.edge_count(), m.edges.size());
  }
}

}  // namespace
