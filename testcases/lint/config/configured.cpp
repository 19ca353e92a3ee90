// .tether-lint.yaml next to this file: legacy::*_blocking functions block,
// tether::sys calls count as blocking, and lock-order inversions are off.
#include <mutex>

#include "tether/sys.h"
#include "tether/thread_locker.h"

namespace legacy {
int fetch_blocking(int key);
int fetch_cached(int key);
}  // namespace legacy

std::mutex a, b;
void ab() {
  std::lock_guard<std::mutex> ga(a);
  std::lock_guard<std::mutex> gb(b);
}
void ba() {
  std::lock_guard<std::mutex> gb(b);
  std::lock_guard<std::mutex> ga(a);  // inversion, but the rule is disabled here
}

void run_on_locker(int fd) {
  auto gl = tether::ThreadLocker::make("gl");
  gl.go([] { (void)legacy::fetch_blocking(1); });  // expect-warning: tether-blocking-call-on-shared-thread
  gl.go([] { (void)legacy::fetch_cached(1); });
  gl.go([fd] {
    char c;
    (void)tether::sys::read(fd, &c, 1);  // expect-warning: tether-blocking-call-on-shared-thread
  });
}
