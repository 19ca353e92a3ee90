// tether/wait_group.h — wait for a collection of fibers to finish.
//
//   tether::WaitGroup wg("workers");
//   for (auto& job : jobs) { wg.add(1); tether::go([&] { run(job); wg.done(); }); }
//   wg.wait();
//
// Semantics are Go's sync.WaitGroup: add(n) changes a counter by n (n may be
// negative), done() is add(-1), and wait() parks until the counter is zero
// (returning at once if it already is). When the counter reaches zero every
// waiter is released. A counter that would go negative raises misuse_error
// and leaves the counter unchanged. Call add() for a new round only after the
// waiters of the previous round have returned (as in Go).
//
// Waiting fibers record "waitgroup wait" with this object's id, name and the
// caller's site.
#pragma once

#include <cstdint>
#include <memory>
#include <source_location>
#include <string>

namespace tether {

namespace detail {
class WaitGroupCore;
}

class WaitGroup {
 public:
  explicit WaitGroup(std::string name = {},
                     std::source_location site = std::source_location::current());
  ~WaitGroup();
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  void add(std::int64_t n, std::source_location site = std::source_location::current());
  void done(std::source_location site = std::source_location::current()) { add(-1, site); }
  void wait(std::source_location site = std::source_location::current());

  std::int64_t count() const noexcept;  // the counter now (a snapshot)
  std::uint64_t id() const noexcept;
  const std::string& name() const noexcept;
  detail::WaitGroupCore* core() const noexcept { return core_.get(); }

 private:
  std::unique_ptr<detail::WaitGroupCore> core_;
};

}  // namespace tether
