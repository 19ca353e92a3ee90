// A file that does not compile: the error is reported as
// clang-diagnostic-error (exit status 2), and the checks still run on what
// parsed.
#include "tether/mutex.h"

tether::Mutex m;

void still_checked() {
  m.lock();
  m.lock();  // expect-warning: tether-lock-misuse
  m.unlock();
}

int broken() {
  return undeclared_name + 1;  // expect-error: clang-diagnostic-error
}
