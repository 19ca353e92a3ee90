// tether/once.h — run a function exactly once, whoever asks first.
//
//   tether::Once init("config");
//   init.call([] { load_config(); });   // from any number of fibers / threads
//
// Semantics are Go's sync.Once, with std::call_once's exception rule:
//  - The first caller runs fn; callers arriving while it runs park (the
//    fiber, not its thread) until it has finished, then return without
//    running their own fn. Once call() has returned normally anywhere,
//    every later call() returns at once.
//  - If fn throws, the exception propagates to that caller and the Once
//    stays not-done: one of the parked callers (or the next caller) runs its
//    own fn next.
//  - fn calling call() on the same Once would wait for itself forever; tether
//    raises misuse_error instead (Go deadlocks).
//
// Waiting fibers record "once wait" with this object's id, name and the
// caller's site.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <source_location>
#include <string>
#include <type_traits>
#include <utility>

namespace tether {

namespace detail {
class OnceCore;
}

class Once {
 public:
  explicit Once(std::string name = {},
                std::source_location site = std::source_location::current());
  ~Once();
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  template <class F>
  void call(F&& fn, std::source_location site = std::source_location::current()) {
    using Fn = std::remove_reference_t<F>;
    call_impl([](void* f) { std::invoke(*static_cast<Fn*>(f)); },
              const_cast<void*>(static_cast<const volatile void*>(std::addressof(fn))), site);
  }

  bool done() const noexcept;     // fn has returned normally once
  std::uint64_t runner() const noexcept;  // fiber id running fn now; 0 if none or a plain thread
  std::uint64_t id() const noexcept;
  const std::string& name() const noexcept;
  detail::OnceCore* core() const noexcept { return core_.get(); }

 private:
  void call_impl(void (*run)(void*), void* fn, std::source_location site);
  std::unique_ptr<detail::OnceCore> core_;
};

}  // namespace tether
