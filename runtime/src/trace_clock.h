// The trace's clock (internal): ticks that every thread can read in a few
// nanoseconds and compare across threads.
//
// The CPU's time-stamp counter when the kernel itself trusts it (invariant
// TSC and `tsc` as the clocksource: synchronized across CPUs, never going
// backwards), CLOCK_MONOTONIC nanoseconds otherwise (or with
// TETHER_TRACE_CLOCK=monotonic). The file header carries the conversion to
// nanoseconds (docs/trace-format.md, "Time").
#pragma once

#include <time.h>
#include <x86intrin.h>

#include <cstdint>

namespace tether::detail::trace {

// Chosen once, before the first session starts recording; read-only afterwards.
extern bool g_clock_is_tsc;

inline std::uint64_t ticks() noexcept {
  if (g_clock_is_tsc) return __rdtsc();
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

struct ClockInfo {
  std::uint64_t start_ticks = 0;
  std::uint64_t num = 1, den = 1;  // ns = ticks * num / den
  std::int64_t start_wall_ns = 0;
  bool tsc = false;
};

// Picks the clock (sets g_clock_is_tsc) and measures the TSC's rate against
// CLOCK_MONOTONIC (about 10 ms). Call before any thread records.
ClockInfo init_clock();

}  // namespace tether::detail::trace
