// off_fiber() (internal): runs a function on a thread of its own when called
// on a fiber, on the calling thread otherwise.
//
// Why: libdw needs more stack than a fiber has (dwarf_getsrclines alone
// overflows 64 KiB), and a capture started from another thread sees the
// calling fiber like any other (parked in the join). The result, or the
// exception, comes back to the caller. Creating the thread can fail
// (std::system_error) when memory has run out.
#pragma once

#include <exception>
#include <optional>
#include <thread>
#include <utility>

#include "scheduler.h"  // current_worker()

namespace tether::detail {

template <class F>
auto off_fiber(F&& fn) -> decltype(fn()) {
  if (current_worker() == nullptr) return fn();
  std::optional<decltype(fn())> result;
  std::exception_ptr error;
  std::thread([&] {
    try {
      result.emplace(fn());
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

}  // namespace tether::detail
