// Occupancy: who held each shared thread, and for how long.
//
// A shared thread is the main thread or a locker's: the fibers locked there
// run one at a time, so a fiber that runs without yielding, or sits in a
// blocking system call, holds up every other fiber of that thread. Fed the
// replayed events in time order (after the State has applied each one), it
// keeps the longest spans per thread and the most fibers that were runnable
// there meanwhile; a span with waiters that lasts at least the stall limit is
// a stall, as the online watchdog reports it.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "replay.h"

namespace tether::trace::detail {

class OccupancyTracker {
 public:
  OccupancyTracker(const Tables& t, std::size_t top) : t_(t), top_(top) {}
  // Call after state.apply(r).
  void apply(const Rec& r, const State& state);
  // Closes the open spans at `end` (ongoing) and returns every kept span,
  // per thread longest first, threads in id order.
  std::vector<Occupancy> finish(std::int64_t end, const State& state);
  // Every span with waiters at least `limit` long (not only the kept ones).
  const std::vector<Occupancy>& stalls() const { return stalls_; }
  void set_stall_limit(std::int64_t ns) { stall_ns_ = ns; }

 private:
  struct Open {
    bool active = false;
    std::uint64_t fiber = 0;
    bool syscall = false;
    std::uint32_t call = 0;
    int fd = -1;
    std::uint32_t site = 0;
    std::int64_t start = 0;
    std::size_t waiting = 0;
    std::int64_t waiters_since = -1;  // fibers have been runnable there since
    std::int64_t longest_wait = 0;    // longest stretch with waiters
  };
  void close(std::uint64_t thread, std::int64_t end, bool ongoing, const State& state);
  void open(std::uint64_t thread, std::uint64_t fiber, bool syscall, const Rec& r);
  bool shared(const State& s, std::uint64_t thread) const;

  const Tables& t_;
  std::size_t top_;
  std::int64_t stall_ns_ = 0;
  std::map<std::uint64_t, Open> open_;
  std::map<std::uint64_t, std::vector<Occupancy>> kept_;
  std::vector<Occupancy> stalls_;
};

}  // namespace tether::trace::detail
