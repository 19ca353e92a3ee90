// tether/trace/trace_summary.h — what a trace holds, at a glance.
//
// `tether analyze TRACE --summary` prints this: events per type, how many
// fibers, threads and objects appear, the time span, and how the file ended
// (a clean `end` record, a torn tail, an error). It is a fold over the event
// stream, so it works on any valid prefix and in O(fibers + threads +
// objects) memory.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "tether/trace/event.h"

namespace tether::trace {

inline constexpr std::size_t kEventTypeCount = static_cast<std::size_t>(EventType::end) + 1;

class TraceSummary {
 public:
  void add(const Event& e);

  std::uint64_t events() const noexcept { return events_; }
  std::uint64_t count(EventType t) const noexcept {
    return counts_[static_cast<std::size_t>(t)];
  }
  std::size_t fibers() const noexcept { return fibers_.size(); }
  std::size_t threads() const noexcept { return threads_.size(); }
  std::size_t objects() const noexcept { return objects_.size(); }

  // A set of ids: a bitmap for the small dense ids the runtime hands out
  // (one bit test per event), a hash set for the rest.
  class Ids {
   public:
    void insert(std::uint64_t id);
    std::size_t size() const noexcept { return size_; }

   private:
    std::vector<std::uint64_t> bits_;
    std::unordered_set<std::uint64_t> sparse_;
    std::size_t size_ = 0;
  };
  std::int64_t first_ns() const noexcept { return first_ns_; }
  std::int64_t last_ns() const noexcept { return last_ns_; }

 private:
  std::uint64_t events_ = 0;
  std::array<std::uint64_t, kEventTypeCount> counts_{};
  Ids fibers_, threads_, objects_;
  std::int64_t first_ns_ = 0, last_ns_ = 0;
  bool timed_ = false;
};

}  // namespace tether::trace
