// LockOrder: the held -> acquired graph and its cycles.
#include "lock_order.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <set>

namespace tether::trace::detail {

void LockOrder::apply(const Rec& r) {
  if (r.type == EventType::lock_acquire) {
    auto& held = held_[r.fiber];
    const bool read = r.a != 0;
    for (const Held& h : held) {
      if (h.object == r.object) continue;  // a recursive read lock
      auto [it, fresh] = edges_.try_emplace({h.object, r.object});
      EdgeInfo& e = it->second;
      // Exclusive locks held besides the two: a gate if held every time.
      std::vector<std::uint64_t> others;  // usually none: no allocation
      if (held.size() > 1) {
        for (const Held& g : held)
          if (!g.read && g.object != h.object && g.object != r.object) others.push_back(g.object);
        std::sort(others.begin(), others.end());
      }
      if (fresh) {
        e.edge.held = h.object;
        e.edge.acquired = r.object;
        e.edge.fiber = r.fiber;
        e.edge.time_ns = r.time;
        e.edge.held_site = t_.site(h.site);
        e.edge.acquired_site = t_.site(r.site);
        e.edge.held_stack = t_.stack(h.stack);
        e.edge.acquired_stack = t_.stack(r.stack);
        e.gates = std::move(others);
      } else if (!e.gates.empty()) {
        std::vector<std::uint64_t> keep;
        std::set_intersection(e.gates.begin(), e.gates.end(), others.begin(), others.end(),
                              std::back_inserter(keep));
        e.gates = std::move(keep);
      }
      if (!(read && h.read)) e.read_only = false;
    }
    held.push_back(Held{r.object, read, r.site, r.stack});
  } else if (r.type == EventType::lock_release) {
    auto it = held_.find(r.fiber);
    if (it == held_.end()) return;
    auto& held = it->second;
    for (auto h = held.rbegin(); h != held.rend(); ++h) {
      if (h->object == r.object) {
        held.erase(std::next(h).base());
        break;
      }
    }
  } else if (r.type == EventType::fiber_exit) {
    held_.erase(r.fiber);
  }
}

std::vector<std::vector<LockOrderEdge>> LockOrder::cycles() const {
  // Adjacency, sorted for determinism.
  std::map<std::uint64_t, std::vector<std::uint64_t>> adj;
  for (const auto& [key, e] : edges_) {
    adj[key.first].push_back(key.second);
    adj[key.second];
  }
  // Tarjan's strongly connected components (iterative).
  std::map<std::uint64_t, int> index, low;
  std::set<std::uint64_t> on_stack;
  std::vector<std::uint64_t> stack;
  std::vector<std::vector<std::uint64_t>> sccs;
  int counter = 0;
  for (const auto& [root, unused] : adj) {
    (void)unused;
    if (index.count(root)) continue;
    std::vector<std::pair<std::uint64_t, std::size_t>> work{{root, 0}};
    index[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack.insert(root);
    while (!work.empty()) {
      auto& [v, next] = work.back();
      const auto& out = adj[v];
      if (next < out.size()) {
        const std::uint64_t w = out[next++];
        if (!index.count(w)) {
          index[w] = low[w] = counter++;
          stack.push_back(w);
          on_stack.insert(w);
          work.push_back({w, 0});
        } else if (on_stack.count(w)) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        std::vector<std::uint64_t> comp;
        std::uint64_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack.erase(w);
          comp.push_back(w);
        } while (w != v);
        if (comp.size() > 1) sccs.push_back(std::move(comp));
      }
      const std::uint64_t done = v;
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
    }
  }
  // One shortest cycle per component, through its smallest lock.
  std::vector<std::vector<LockOrderEdge>> out;
  for (auto& comp : sccs) {
    const std::set<std::uint64_t> in(comp.begin(), comp.end());
    const std::uint64_t start = *in.begin();
    std::map<std::uint64_t, std::uint64_t> prev;
    std::deque<std::uint64_t> q{start};
    bool found = false;
    while (!q.empty() && !found) {
      const std::uint64_t v = q.front();
      q.pop_front();
      for (std::uint64_t w : adj[v]) {
        if (!in.count(w)) continue;
        if (w == start) {
          prev[start] = v;
          found = true;
          break;
        }
        if (!prev.count(w)) {
          prev[w] = v;
          q.push_back(w);
        }
      }
    }
    if (!found) continue;
    std::vector<std::uint64_t> path{start};
    for (std::uint64_t v = prev[start]; v != start; v = prev[v]) path.push_back(v);
    std::reverse(path.begin() + 1, path.end());
    std::vector<LockOrderEdge> cycle;
    std::vector<std::uint64_t> gates;
    bool read_only = true;
    for (std::size_t k = 0; k < path.size(); ++k) {
      const EdgeInfo& e = edges_.at({path[k], path[(k + 1) % path.size()]});
      if (k == 0) {
        gates = e.gates;
      } else if (!e.gates.empty()) {
        std::vector<std::uint64_t> keep;
        std::set_intersection(gates.begin(), gates.end(), e.gates.begin(), e.gates.end(),
                              std::back_inserter(keep));
        gates = std::move(keep);
      }
      read_only = read_only && e.read_only;
      cycle.push_back(e.edge);
    }
    if (!gates.empty() || read_only) continue;  // a gate lock serializes them; readers share
    out.push_back(std::move(cycle));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.front().held < b.front().held; });
  return out;
}

}  // namespace tether::trace::detail
