// NOLINT comments, with clang-tidy's semantics.
#include "tether/mutex.h"

tether::Mutex m;

void same_line() {
  m.lock();
  m.lock();  // NOLINT
  m.unlock();
}

void listed_rule() {
  m.lock();
  m.lock();  // NOLINT(tether-lock-misuse)
  m.unlock();
}

void glob_rule() {
  m.lock();
  m.lock();  // NOLINT(tether-lock-*)
  m.unlock();
}

void other_rule_does_not_suppress() {
  m.lock();
  m.lock();  // NOLINT(tether-self-request) expect-warning: tether-lock-misuse
  m.unlock();
}

void next_line() {
  m.lock();
  // NOLINTNEXTLINE(tether-lock-misuse)
  m.lock();
  m.unlock();
}

void next_line_only_next() {
  m.lock();
  // NOLINTNEXTLINE(tether-lock-misuse)

  m.lock();  // expect-warning: tether-lock-misuse
  m.unlock();
}

// NOLINTBEGIN(tether-lock-misuse)
void region() {
  m.lock();
  m.lock();
  m.unlock();
}
// NOLINTEND(tether-lock-misuse)

void after_region() {
  m.lock();
  m.lock();  // expect-warning: tether-lock-misuse
  m.unlock();
}

// NOLINTBEGIN(tether-self-request) expect-error: tether-nolint-unmatched
void unmatched_region_suppresses_nothing() {
  m.lock();
  m.lock();  // expect-warning: tether-lock-misuse
  m.unlock();
}
