// LockOrder: potential lock-order inversions anywhere in a run.
//
// Like Abseil's deadlock detector and TSan's lock-order-inversion report, but
// offline: every lock_acquire while the same fiber holds other locks adds the
// edges held -> acquired (keyed by object id, never by address), remembering
// the first time each order was seen with both acquisition sites and stacks.
// At the end every cycle of that graph (one per strongly connected set of
// locks) is one finding. A cycle whose orders were all taken under one common
// "gate" lock cannot deadlock and is left out; so is one that only ever
// involves read locks (readers do not exclude each other).
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "replay.h"

namespace tether::trace::detail {

class LockOrder {
 public:
  explicit LockOrder(const Tables& t) : t_(t) {}
  void apply(const Rec& r);
  // One LockOrderEdge list per cycle, each starting at its smallest lock.
  std::vector<std::vector<LockOrderEdge>> cycles() const;

 private:
  struct Held {
    std::uint64_t object;
    bool read;
    std::uint32_t site, stack;
  };
  struct EdgeInfo {
    LockOrderEdge edge;
    bool read_only = true;             // both ends were read locks every time
    std::vector<std::uint64_t> gates;  // other locks held every time this order was taken
  };
  const Tables& t_;
  std::unordered_map<std::uint64_t, std::vector<Held>> held_;  // per fiber, in acquisition order
  std::map<std::pair<std::uint64_t, std::uint64_t>, EdgeInfo> edges_;
};

}  // namespace tether::trace::detail
