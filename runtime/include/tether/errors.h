// tether/errors.h — the exceptions tether throws.
//
// misuse_error is thrown for the API misuses the ThreadLocker proposal calls a
// panic: locking a fiber that is already locked, unlocking one that is not,
// locking to (or starting a fiber on, or calling into) a finished locker,
// sending on or closing a closed channel, unlocking an unlocked mutex, and a
// call() that would make a locker's thread wait for itself. The message names
// the fiber, the OS thread and the call site. Uncaught, it ends the program
// like any exception that escapes a fiber: with a dump of every fiber.
#pragma once

#include <cstdint>
#include <source_location>
#include <stdexcept>
#include <string>

namespace tether {

class misuse_error : public std::logic_error {
 public:
  misuse_error(const std::string& what, std::uint64_t fiber_id, std::string thread,
               std::source_location site);

  // 0 when raised from a plain thread (not a fiber).
  std::uint64_t fiber_id() const noexcept { return fiber_id_; }
  const std::string& thread() const noexcept { return thread_; }
  const std::source_location& site() const noexcept { return site_; }

 private:
  std::uint64_t fiber_id_;
  std::string thread_;
  std::source_location site_;
};

}  // namespace tether
