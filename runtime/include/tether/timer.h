// tether/timer.h — sleeping without blocking the thread.
//
// In a fiber, sleep_for/sleep_until park the fiber (wait reason "sleep") and
// the runtime's monitor thread wakes it at the deadline: the OS thread keeps
// running the other fibers, and nothing polls. On a plain thread they are
// std::this_thread::sleep_for/until.
#pragma once

#include <chrono>
#include <source_location>

namespace tether {

void sleep_until(std::chrono::steady_clock::time_point deadline,
                 std::source_location site = std::source_location::current());

template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d,
               std::source_location site = std::source_location::current()) {
  sleep_until(std::chrono::steady_clock::now() +
                  std::chrono::ceil<std::chrono::steady_clock::duration>(d),
              site);
}

}  // namespace tether
