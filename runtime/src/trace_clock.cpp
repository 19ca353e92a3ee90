#include "trace_clock.h"

#include <cpuid.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tether::detail::trace {

bool g_clock_is_tsc = false;

namespace {

std::int64_t clock_ns(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool tsc_usable() {
  if (const char* e = std::getenv("TETHER_TRACE_CLOCK"); e && std::strcmp(e, "monotonic") == 0)
    return false;
  unsigned a, b, c, d;
  if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !(d & (1u << 8))) return false;  // invariant
  // The kernel trusts the TSC across CPUs only if it uses it as its clocksource.
  std::FILE* f =
      std::fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
  if (!f) return false;
  char buf[32] = {};
  const bool ok = std::fgets(buf, sizeof buf, f) && std::strncmp(buf, "tsc", 3) == 0;
  std::fclose(f);
  return ok;
}

// One (monotonic ns, tsc) pair, from the tightest of a few bracketed reads.
void paired_read(std::int64_t* ns, std::uint64_t* tsc) {
  std::int64_t best = -1;
  for (int i = 0; i < 5; ++i) {
    const std::int64_t a = clock_ns(CLOCK_MONOTONIC);
    const std::uint64_t t = __rdtsc();
    const std::int64_t b = clock_ns(CLOCK_MONOTONIC);
    if (best < 0 || b - a < best) {
      best = b - a;
      *ns = a + (b - a) / 2;
      *tsc = t;
    }
  }
}

}  // namespace

ClockInfo init_clock() {
  ClockInfo c;
  g_clock_is_tsc = tsc_usable();
  if (g_clock_is_tsc) {
    std::int64_t ns0, ns1;
    std::uint64_t t0, t1;
    paired_read(&ns0, &t0);
    timespec d{0, 10'000'000};
    nanosleep(&d, nullptr);
    paired_read(&ns1, &t1);
    if (t1 > t0 && ns1 > ns0) {
      c.num = static_cast<std::uint64_t>(ns1 - ns0);
      c.den = t1 - t0;
      c.tsc = true;
    } else {
      g_clock_is_tsc = false;
    }
  }
  c.start_ticks = ticks();
  c.start_wall_ns = clock_ns(CLOCK_REALTIME);
  return c;
}

}  // namespace tether::detail::trace
