// tether-lock-order-inversion: two paths take the same two locks in opposite
// orders. Pairs come from FlowWalker (inside one body) and from calls made
// while holding a lock into functions that take another (transitively).
#include <map>
#include <set>

#include <fmt/format.h>

#include "lint/checks.h"
#include "lint/rules.h"

namespace tether::lint {
namespace {

struct Edge {
  HeldLock first, second;
  std::string where;      // the function
  std::vector<Note> via;  // calls between taking `first` and `second`
};

// Every lock a body takes, directly or in what it calls, with the call path.
void acquired_by(const TuModel& m, int body,
                 std::vector<std::pair<HeldLock, std::vector<Note>>>& out) {
  Reach r = reach_from(m, body);
  for (const auto& [b, step] : r.parent) {
    for (const Acquire& a : m.bodies[b].acquires) out.emplace_back(a.lock, path_notes(m, r, b));
  }
}

}  // namespace

void check_lock_order(const TuModel& m, std::vector<Diagnostic>& out) {
  std::map<std::pair<std::string, std::string>, Edge> edges;
  auto add = [&](Edge e) {
    auto k = std::make_pair(e.first.key, e.second.key);
    if (e.first.key == e.second.key || edges.count(k)) return;
    edges.emplace(k, std::move(e));
  };
  for (const Body& b : m.bodies) {
    for (const auto& [first, second] : b.order_pairs) add(Edge{first, second, b.name, {}});
    for (const CallSite& cs : b.calls) {
      if (cs.locks_held.empty() || cs.target < 0) continue;
      std::vector<std::pair<HeldLock, std::vector<Note>>> taken;
      acquired_by(m, cs.target, taken);
      for (const HeldLock& h : cs.locks_held) {
        for (const auto& [lock, path] : taken) {
          std::vector<Note> via{Note{
              cs.loc, fmt::format("calls '{}' here while holding '{}'", cs.callee, h.display)}};
          via.insert(via.end(), path.begin(), path.end());
          add(Edge{h, lock, b.name, std::move(via)});
        }
      }
    }
  }
  std::set<std::pair<std::string, std::string>> reported;
  for (const auto& [k, ab] : edges) {
    auto rev = edges.find({k.second, k.first});
    if (rev == edges.end() || reported.count({k.second, k.first})) continue;
    reported.insert(k);
    const Edge& ba = rev->second;
    // Report at the later of the two second acquisitions, so the finding sits
    // on the path a reader will look at second.
    const bool ab_first = ab.second.acquired < ba.second.acquired;
    const Edge& here = ab_first ? ba : ab;
    const Edge& other = ab_first ? ab : ba;
    Diagnostic d;
    d.rule = std::string(kLockOrderInversion);
    d.loc = here.second.acquired;
    d.message = fmt::format(
        "lock order inversion: '{}' is taken here while holding '{}' (in '{}'), but '{}' takes "
        "'{}' while holding '{}'; run together, each can wait for the other",
        here.second.display, here.first.display, here.where, other.where, other.second.display,
        other.first.display);
    d.notes.push_back(
        Note{here.first.acquired, fmt::format("'{}' acquired here", here.first.display)});
    d.notes.insert(d.notes.end(), here.via.begin(), here.via.end());
    d.notes.push_back(Note{other.first.acquired,
                           fmt::format("other path: '{}' acquired here", other.first.display)});
    d.notes.insert(d.notes.end(), other.via.begin(), other.via.end());
    d.notes.push_back(
        Note{other.second.acquired, fmt::format("then '{}' acquired here", other.second.display)});
    out.push_back(std::move(d));
  }
}

}  // namespace tether::lint
