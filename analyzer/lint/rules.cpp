#include "lint/rules.h"

#include <array>

namespace tether::lint {
namespace {

constexpr std::array<RuleInfo, 7> kRules{{
    {kBlockingOnSharedThread, "Blocking call on a thread shared by several fibers",
     "A call that blocks its OS thread (a libc syscall, std::mutex::lock, "
     "std::condition_variable::wait, std::future::get, std::thread::join, sleep, or a function "
     "declared TETHER_BLOCKING) is reached from code that runs on a ThreadLocker's thread: a "
     "callable passed to ThreadLocker::go or ::call, or code after ThreadLocker::lock(). While "
     "it blocks, no other fiber locked to that thread can run, and if one of them was going to "
     "wake the call, the thread deadlocks.",
     "Use the tether::sys:: wrapper (recorded and watched by the runtime), tether::Mutex / "
     "CondVar / Chan instead of std:: primitives, or move the call to a pool fiber with "
     "tether::go. Suppress with // NOLINT(tether-blocking-call-on-shared-thread)."},
    {kSelfRequest, "A fiber sends a request to a channel only it receives from",
     "A fiber is the only receiver of a channel (a 'syscall server' loop) and, while serving, "
     "sends on that same channel and waits: nobody else will ever take the request, so the "
     "fiber waits for itself.",
     "Handle the request inline instead of sending it to yourself, or serve the channel from "
     "more than one fiber."},
    {kLockMisuse, "Lock taken twice, released without being held, or not released on some path",
     "ThreadLocker::lock(), tether::Mutex/RWMutex and std::mutex locks must be released exactly "
     "once on every path out of the function, including early returns and throws; locking a "
     "non-recursive lock twice deadlocks (or raises tether::misuse_error).",
     "Use std::lock_guard / std::unique_lock (RAII) or release on every path."},
    {kLockOrderInversion, "Two code paths take the same two locks in opposite orders",
     "Within one translation unit, one path acquires lock A then B while another acquires B "
     "then A. If both run at the same time, each can hold one lock and wait for the other.",
     "Take the locks in one global order, or together with std::scoped_lock / std::lock."},
    {kUnbufferedSelfDeadlock,
     "A fiber both sends and receives on an unbuffered channel nobody else uses",
     "An unbuffered channel hands a value from a sender to a different, waiting receiver. When "
     "one fiber is the only user of the channel, its first blocking send or receive waits "
     "forever.",
     "Give the channel a buffer, or hand the other side to another fiber."},
    {kCompileError, "The file did not compile",
     "libclang reported an error while parsing the translation unit; the checks ran on what "
     "parsed, and may have missed findings.",
     "Fix the compile error, or the compile command in compile_commands.json."},
    {kUnmatchedNolint, "NOLINTBEGIN without a matching NOLINTEND (or the reverse)",
     "A NOLINTBEGIN region that is never closed, or a NOLINTEND without a NOLINTBEGIN, "
     "suppresses nothing; clang-tidy reports the same mistake.",
     "Add the missing NOLINTEND / NOLINTBEGIN comment with the same rule list."},
}};

}  // namespace

std::span<const RuleInfo> all_rules() {
  return kRules;
}

const RuleInfo* find_rule(std::string_view id) {
  for (const RuleInfo& r : kRules)
    if (r.id == id) return &r;
  return nullptr;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative wildcard match with backtracking to the last '*'.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace tether::lint
