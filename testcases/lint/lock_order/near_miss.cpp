// Near misses of tether-lock-order-inversion: none may be reported.
#include <mutex>

#include "tether/mutex.h"

std::mutex a, b, c;

// The same order everywhere.
void ab1() {
  std::lock_guard<std::mutex> ga(a);
  std::lock_guard<std::mutex> gb(b);
}
void ab2() {
  a.lock();
  b.lock();
  b.unlock();
  a.unlock();
}

// std::scoped_lock takes several locks without an order (deadlock avoidance).
void scoped_ba() { std::scoped_lock both(b, a); }
void lock_both() {
  std::lock(c, a);
  c.unlock();
  a.unlock();
}

// The first lock is released before the second is taken.
void b_then_a_sequential() {
  b.lock();
  b.unlock();
  a.lock();
  a.unlock();
}

// Function-local mutexes are different objects in every call.
void locals_one() {
  tether::Mutex p, q;
  p.lock();
  q.lock();
  q.unlock();
  p.unlock();
}
void locals_two() {
  tether::Mutex q, p;
  q.lock();
  p.lock();
  p.unlock();
  q.unlock();
}

// The helper is called after the lock was released.
static void take_a() { std::lock_guard<std::mutex> g(a); }
void b_released_then_helper() {
  {
    std::lock_guard<std::mutex> g(b);
  }
  take_a();
}
