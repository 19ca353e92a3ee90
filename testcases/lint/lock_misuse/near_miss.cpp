// Near misses of tether-lock-misuse: none may be reported.
#include <mutex>
#include <shared_mutex>
#include <stdexcept>

#include "tether/mutex.h"
#include "tether/rw_mutex.h"
#include "tether/thread_locker.h"

tether::Mutex m;
std::mutex sm;
std::recursive_mutex rm;
std::shared_mutex shm;
tether::RWMutex table;

// RAII guards release on every path, including early returns and throws.
int guarded(int v) {
  std::lock_guard<tether::Mutex> g(m);
  if (v < 0) return -1;
  if (v == 0) throw std::invalid_argument("zero");
  return v;
}

// Released explicitly on every path.
int released_everywhere(int v) {
  sm.lock();
  if (v < 0) {
    sm.unlock();
    return -1;
  }
  try {
    if (v == 0) throw std::runtime_error("zero");
  } catch (...) {
    sm.unlock();
    throw;
  }
  sm.unlock();
  return v;
}

// try_lock() as a condition; unique_lock with defer_lock; std::lock + adopt_lock.
void try_and_defer(bool b) {
  if (m.try_lock()) m.unlock();
  if (!sm.try_lock()) return;
  sm.unlock();
  std::unique_lock<std::mutex> ul(sm, std::defer_lock);
  if (b) ul.lock();
  std::lock(sm, shm);
  std::lock_guard<std::mutex> a(sm, std::adopt_lock);
  std::lock_guard<std::shared_mutex> c(shm, std::adopt_lock);
}

// A recursive mutex may be locked twice; shared locks through shared_lock.
void recursive_and_shared() {
  rm.lock();
  rm.lock();
  rm.unlock();
  rm.unlock();
  std::shared_lock<std::shared_mutex> r(shm);
  table.rlock();
  table.runlock();
}

// A lock wrapper: locking without unlocking in the same function is its job.
void acquire_table() { table.lock(); }
void release_table() { table.unlock(); }

// A locker fiber starts locked, may leave the thread and come back.
void leave_and_return() {
  auto gl = tether::ThreadLocker::make("gl");
  gl.go([gl]() mutable {
    gl.unlock();
    gl.lock();
  });
  // Locking for the rest of the fiber's life is allowed (Go's LockOSThread
  // without Unlock): nothing in this function unlocks it.
  tether::go([gl]() mutable { gl.lock(); });
}

// Each loop iteration releases what it took.
void loop_balanced(int n) {
  for (int i = 0; i < n; ++i) {
    std::unique_lock<std::mutex> lk(sm);
    if (i % 2) continue;
    lk.unlock();
    lk.lock();
  }
  while (true) {
    m.lock();
    if (n-- < 0) {
      m.unlock();
      break;
    }
    m.unlock();
  }
}
