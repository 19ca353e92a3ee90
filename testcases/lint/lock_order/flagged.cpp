// tether-lock-order-inversion: two paths take the same two locks in opposite
// orders (reported once per pair, at the later of the two second acquisitions).
#include <mutex>

#include "tether/mutex.h"
#include "tether/rw_mutex.h"

// Case 1: std::mutex, manual lock/unlock.
std::mutex a, b;
void ab() {
  a.lock();
  b.lock();
  b.unlock();
  a.unlock();
}
void ba() {
  std::lock_guard<std::mutex> gb(b);
  std::lock_guard<std::mutex> ga(a);  // expect-warning: tether-lock-order-inversion
}

// Case 2: tether::Mutex members of one class, through guards in two methods.
class Account {
 public:
  void deposit() {
    std::lock_guard<tether::Mutex> g1(balance_mu_);
    std::lock_guard<tether::Mutex> g2(log_mu_);
  }
  void audit() {
    std::scoped_lock l1(log_mu_);
    std::scoped_lock l2(balance_mu_);  // expect-warning: tether-lock-order-inversion
  }

 private:
  tether::Mutex balance_mu_;
  tether::Mutex log_mu_;
};

// Case 3: through a call: `x` is held while a helper takes `y`.
tether::Mutex x, y;
static void touch_y() {
  y.lock();
  y.unlock();
}
void x_then_helper() {
  x.lock();
  touch_y();
  x.unlock();
}
void y_then_x() {
  y.lock();
  x.lock();  // expect-warning: tether-lock-order-inversion
  x.unlock();
  y.unlock();
}

// Case 4: a read lock of an RWMutex against a mutex.
tether::RWMutex routes;
tether::Mutex stats;
void read_then_stats() {
  routes.rlock();
  stats.lock();
  stats.unlock();
  routes.runlock();
}
void stats_then_write() {
  stats.lock();
  routes.lock();  // expect-warning: tether-lock-order-inversion
  routes.unlock();
  stats.unlock();
}
