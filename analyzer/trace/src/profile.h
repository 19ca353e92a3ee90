// BlockingProfile: blocked time per wait reason and per call site, like Go's
// block profile (runtime/pprof "block"). A wait lasts from the park (or the
// syscall's entry) to the unpark (or the exit); one still open at the end
// counts up to the end. Runnable/running time is not blocking and is left out.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>

#include "replay.h"

namespace tether::trace::detail {

class ProfileBuilder {
 public:
  explicit ProfileBuilder(const Tables& t) : t_(t) {}
  // A fiber left state `before` (its wait ended, or it changed) at `now`.
  void transition(const FiberState& before, std::int64_t now);
  // A plain thread's wait (ThreadState::plain_wait) ended at `now`.
  void plain_wait_ended(const ThreadState::PlainWait& w, std::int64_t now);
  BlockingProfile finish(std::int64_t end, const State& state);
  static bool blocking(WaitReason r);

 private:
  struct Acc {
    std::uint64_t count = 0;
    std::int64_t total = 0, max = 0;
    void add(std::int64_t d) {
      ++count;
      total += d;
      max = std::max(max, d);
    }
  };
  void add(WaitReason r, std::uint32_t site, std::uint32_t stack, std::int64_t d);
  const Tables& t_;
  static constexpr std::size_t kReasons = static_cast<std::size_t>(WaitReason::dead) + 1;
  std::array<Acc, kReasons> by_reason_{};
  // Per reason: (site << 32 | stack) -> Acc (hashed: one lookup per wait).
  std::array<std::unordered_map<std::uint64_t, Acc>, kReasons> by_site_;
};

}  // namespace tether::trace::detail
