// FiberRegistry: every live fiber, for dumps, snapshots and the detector.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "fiber_impl.h"

namespace tether::detail {

class FiberRegistry {
 public:
  static FiberRegistry& instance();
  void add(Fiber* f);
  void remove(Fiber* f);
  std::uint64_t next_id() noexcept;
  std::uint64_t peek_next_id() const noexcept { return next_id_.load(std::memory_order_relaxed); }
  std::size_t alive() const;
  // Calls fn(Fiber&) for every live fiber, under the registry's lock.
  template <class F>
  void for_each(F&& fn) const {
    std::lock_guard lk(mu_);
    for (Fiber* f = head_; f; f = f->reg_next) fn(*f);
  }
  // Calls fn(Fiber* head) with the registry locked, for work that must see a
  // fixed set of fibers for a while (the stop-the-world stack capture).
  template <class F>
  void with_locked(F&& fn) const {
    std::lock_guard lk(mu_);
    fn(head_);
  }

 private:
  mutable std::mutex mu_;
  Fiber* head_ = nullptr;
  std::size_t alive_ = 0;
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace tether::detail
