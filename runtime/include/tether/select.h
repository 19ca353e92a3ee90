// tether/select.h — Go's select over channel operations.
//
//   int i = tether::select(
//       tether::recv(requests, [&](std::optional<Request> r) { ... }),  // nullopt: closed
//       tether::send(replies, std::move(reply), [&] { ... }),
//       tether::after(100ms, [&] { ... }),                               // timeout
//       tether::otherwise([&] { ... }));                                  // Go's default
//
// select() waits until one case can proceed, performs exactly that one
// operation, runs its function, and returns the case's index (0-based, in
// argument order). Semantics are Go's:
//   - a recv case is ready when a value is there or the channel is closed
//     (its function then gets nullopt); a send case when a receiver waits or
//     the buffer has room, or when the channel is closed (then select raises
//     misuse_error, as Go panics);
//   - among several ready cases one is chosen uniformly at random;
//   - otherwise(fn) runs fn at once if no case is ready (select never blocks);
//   - after(d, fn) runs fn if no case became ready within d (the earliest
//     after() counts if there are several);
//   - select() with no cases blocks forever (wait state "select (no cases)").
// A blocked select shows wait state "select" (for a single channel: its id
// and name) and the site where the first case was built, which is the select
// statement itself when the cases are written inline as above.
//
// The functions run after the channel operation completed and all locks are
// released: they may use channels (and select) freely. Their return values are
// ignored. A recv function may also take no argument.
//
// Dynamic form, for a number of cases known only at run time (it allocates):
//   std::vector<tether::Case> cases;
//   for (auto& ch : inputs) cases.push_back(tether::recv(ch, handler));
//   int i = tether::select(cases);
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <source_location>
#include <span>
#include <type_traits>
#include <utility>

#include "tether/chan.h"

namespace tether {

namespace detail {

// The type-erased view of one case that the select engine (select.cpp) works on.
struct SelectCaseRef {
  enum class Kind : std::uint8_t { recv, send, otherwise, after };
  Kind kind;
  ChanCore* chan = nullptr;  // recv, send
  void* elem = nullptr;      // send: the value to move from; recv: raw storage to construct in
  bool ok = false;           // recv, set by select: a value arrived (false: closed)
  std::chrono::steady_clock::duration timeout{};  // after
};

// Picks a case, performs its channel operation, returns its index.
int select_core(SelectCaseRef* cases, std::size_t n, std::source_location site);
[[noreturn]] void select_forever(std::source_location site);

}  // namespace detail

template <class T, class F>
class RecvCase {
  static_assert(std::is_invocable_v<F&, std::optional<T>> || std::is_invocable_v<F&>,
                "a recv case's function takes std::optional<T> (nullopt: closed) or nothing");

 public:
  RecvCase(const Chan<T>& ch, F fn, std::source_location site)
      : chan_(ch.core()), fn_(std::move(fn)), site_(site) {}

  detail::SelectCaseRef ref() {
    return {detail::SelectCaseRef::Kind::recv, chan_, slot_.bytes, false, {}};
  }
  void run(const detail::SelectCaseRef& r) {
    std::optional<T> v;
    if (r.ok) {
      v.emplace(std::move(*slot_.get()));
      slot_.get()->~T();
    }
    if constexpr (std::is_invocable_v<F&, std::optional<T>>) {
      fn_(std::move(v));
    } else {
      fn_();
    }
  }
  const std::source_location& site() const noexcept { return site_; }

 private:
  detail::ChanCore* chan_;
  F fn_;
  std::source_location site_;
  detail::RawSlot<T> slot_;  // constructed only by a successful receive, moved out by run()
};

template <class T, class F>
class SendCase {
  static_assert(std::is_invocable_v<F&>, "a send case's function takes no arguments");

 public:
  SendCase(const Chan<T>& ch, T value, F fn, std::source_location site)
      : chan_(ch.core()), value_(std::move(value)), fn_(std::move(fn)), site_(site) {}

  detail::SelectCaseRef ref() {
    return {detail::SelectCaseRef::Kind::send, chan_, &value_, false, {}};
  }
  void run(const detail::SelectCaseRef&) { fn_(); }
  const std::source_location& site() const noexcept { return site_; }

 private:
  detail::ChanCore* chan_;
  T value_;
  F fn_;
  std::source_location site_;
};

template <class F>
class OtherwiseCase {
 public:
  OtherwiseCase(F fn, std::source_location site) : fn_(std::move(fn)), site_(site) {}
  detail::SelectCaseRef ref() { return {detail::SelectCaseRef::Kind::otherwise}; }
  void run(const detail::SelectCaseRef&) { fn_(); }
  const std::source_location& site() const noexcept { return site_; }

 private:
  F fn_;
  std::source_location site_;
};

template <class F>
class AfterCase {
 public:
  AfterCase(std::chrono::steady_clock::duration d, F fn, std::source_location site)
      : d_(d), fn_(std::move(fn)), site_(site) {}
  detail::SelectCaseRef ref() {
    return {detail::SelectCaseRef::Kind::after, nullptr, nullptr, false, d_};
  }
  void run(const detail::SelectCaseRef&) { fn_(); }
  const std::source_location& site() const noexcept { return site_; }

 private:
  std::chrono::steady_clock::duration d_;
  F fn_;
  std::source_location site_;
};

// What select() accepts as a case.
template <class C>
concept SelectCase = requires(C& c, const detail::SelectCaseRef& r) {
  { c.ref() } -> std::same_as<detail::SelectCaseRef>;
  c.run(r);
  c.site();
};

// Receives from ch; fn(std::optional<T>) gets nullopt when ch is closed and drained.
template <class T, class F>
RecvCase<T, std::decay_t<F>> recv(const Chan<T>& ch, F&& fn,
                                  std::source_location site = std::source_location::current()) {
  return {ch, std::forward<F>(fn), site};
}
// Sends value on ch, then runs fn().
template <class T, class U, class F>
requires std::constructible_from<T, U&&> SendCase<T, std::decay_t<F>> send(
    const Chan<T>& ch, U&& value, F&& fn,
    std::source_location site = std::source_location::current()) {
  return {ch, T(std::forward<U>(value)), std::forward<F>(fn), site};
}
// Go's `default:` — runs fn when no other case is ready.
template <class F>
OtherwiseCase<std::decay_t<F>> otherwise(
    F&& fn, std::source_location site = std::source_location::current()) {
  return {std::forward<F>(fn), site};
}
// A timeout: runs fn when no other case became ready within d.
template <class Rep, class Period, class F>
AfterCase<std::decay_t<F>> after(std::chrono::duration<Rep, Period> d, F&& fn,
                                 std::source_location site = std::source_location::current()) {
  return {std::chrono::ceil<std::chrono::steady_clock::duration>(d), std::forward<F>(fn), site};
}

// Waits for one of the cases, runs it, returns its index.
template <SelectCase C0, SelectCase... Cs>
int select(C0&& c0, Cs&&... cs) {
  detail::SelectCaseRef refs[] = {c0.ref(), cs.ref()...};
  const int chosen = detail::select_core(refs, 1 + sizeof...(Cs), c0.site());
  int i = 0;
  auto run_if_chosen = [&](auto& c) {
    if (i++ == chosen) c.run(refs[chosen]);
  };
  run_if_chosen(c0);
  (run_if_chosen(cs), ...);
  return chosen;
}

// select {}: blocks the caller forever.
[[noreturn]] inline void select(std::source_location site = std::source_location::current()) {
  detail::select_forever(site);
}

// A case of any kind, for the dynamic form. Built from recv(), send(),
// otherwise() or after(); move-only.
class Case {
 public:
  template <SelectCase C>
  requires(!std::same_as<std::decay_t<C>, Case>)
      Case(C&& c)  // NOLINT: implicit by design, so push_back(tether::recv(...)) works
      : impl_(std::make_unique<Impl<std::decay_t<C>>>(std::forward<C>(c))) {}

  detail::SelectCaseRef ref() { return impl_->ref(); }
  void run(const detail::SelectCaseRef& r) { impl_->run(r); }
  const std::source_location& site() const noexcept { return impl_->site(); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual detail::SelectCaseRef ref() = 0;
    virtual void run(const detail::SelectCaseRef& r) = 0;
    virtual const std::source_location& site() const noexcept = 0;
  };
  template <class C>
  struct Impl final : Base {
    template <class U>
    explicit Impl(U&& u) : c(std::forward<U>(u)) {}
    detail::SelectCaseRef ref() override { return c.ref(); }
    void run(const detail::SelectCaseRef& r) override { c.run(r); }
    const std::source_location& site() const noexcept override { return c.site(); }
    C c;
  };
  std::unique_ptr<Base> impl_;
};

// The dynamic form: waits for one of cases, runs it, returns its index. With
// no cases it blocks forever, like select().
int select(std::span<Case> cases, std::source_location site = std::source_location::current());

}  // namespace tether
