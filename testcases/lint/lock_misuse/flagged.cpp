// tether-lock-misuse: double lock, unlock without lock, and locks not
// released on some path out of the function.
#include <mutex>
#include <stdexcept>

#include "tether/mutex.h"
#include "tether/runtime.h"
#include "tether/rw_mutex.h"
#include "tether/thread_locker.h"

tether::Mutex m;
std::mutex sm;
tether::RWMutex table;

// Case 1: locked twice on one path.
void double_lock() {
  m.lock();
  m.lock();  // expect-warning: tether-lock-misuse
  m.unlock();
}

// Case 2: unlocked on a path where it was never locked.
void unlock_without_lock(bool fast) {
  if (!fast) m.lock();
  m.unlock();  // expect-warning: tether-lock-misuse
}

// Case 3: an early return leaves the mutex locked.
int early_return(int v) {
  sm.lock();  // expect-warning: tether-lock-misuse
  if (v < 0) return -1;
  sm.unlock();
  return v;
}

// Case 4: a throw leaves the fiber locked to the locker's thread.
void throw_while_locked(tether::ThreadLocker gl, bool bad) {
  gl.lock();  // expect-warning: tether-lock-misuse
  if (bad) throw std::runtime_error("bad");
  gl.unlock();
}

// Case 5: `continue` skips the unlock: the next iteration locks again, and
// the loop can end with the lock held (one finding: the leak follows from it).
void loop_continue(int n) {
  for (int i = 0; i < n; ++i) {
    sm.lock();  // expect-warning: tether-lock-misuse
    if (i % 2) continue;
    sm.unlock();
  }
}

// Case 6: lock() on a second locker while locked to the first (misuse_error).
void nested_lockers(tether::ThreadLocker a, tether::ThreadLocker b) {
  a.lock();
  b.lock();  // expect-warning: tether-lock-misuse
  b.unlock();
  a.unlock();
}

// Case 7: a read lock not released in one switch case.
int read_entry(int k) {
  table.rlock();  // expect-warning: tether-lock-misuse
  switch (k) {
    case 0:
      return 0;
    default:
      break;
  }
  table.runlock();
  return k;
}

// Case 8: a locker fiber starts locked: lock() again is a double lock.
void go_fiber_relocks() {
  auto gl = tether::ThreadLocker::make("gl");
  gl.go([gl]() mutable {
    gl.lock();  // expect-warning: tether-lock-misuse
    gl.unlock();
  });
}

int main() {
  return tether::run([] {
    double_lock();
    unlock_without_lock(true);
    go_fiber_relocks();
    return early_return(1);
  });
}
