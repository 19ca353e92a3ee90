// tether/task.h — a move-only `void()` callable (what a fiber runs).
//
// std::function needs copyable callables; fibers and call() must accept
// lambdas that own move-only things (a unique_ptr, a Chan end, a promise).
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace tether {

class Task {
 public:
  Task() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Task>>>
  Task(F&& f) : impl_(new Impl<std::decay_t<F>>(std::forward<F>(f))) {}  // NOLINT: implicit by design

  void operator()() { impl_->call(); }
  explicit operator bool() const noexcept { return impl_ != nullptr; }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void call() = 0;
  };
  template <class F>
  struct Impl final : Base {
    explicit Impl(F&& f) : fn(std::move(f)) {}
    explicit Impl(const F& f) : fn(f) {}
    void call() override { fn(); }
    F fn;
  };
  std::unique_ptr<Base> impl_;
};

}  // namespace tether
