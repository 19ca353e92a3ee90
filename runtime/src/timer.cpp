#include "tether/timer.h"

#include <thread>

#include "scheduler.h"
#include "sync_object.h"
#include "tether/fiber.h"
#include "waiter.h"

namespace tether {

void sleep_until(std::chrono::steady_clock::time_point deadline, std::source_location site) {
  if (!detail::current_fiber()) {
    std::this_thread::sleep_until(deadline);
    return;
  }
  if (deadline <= std::chrono::steady_clock::now()) {
    this_fiber::yield();
    return;
  }
  detail::Waiter w;
  detail::block(w, nullptr, 0, detail::WaitSite{WaitReason::sleep, 0, nullptr, site}, &deadline);
}

}  // namespace tether
