// take_snapshot(): the runtime as a WaitGraph (the model and build_edges()
// are in wait_graph_model.cpp, part of tether_wait_model).
#include "wait_graph.h"

#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "fd_table.h"
#include "fiber_impl.h"
#include "fiber_registry.h"
#include "locker.h"
#include "object_registry.h"
#include "preload_bridge.h"
#include "runtime_state.h"
#include "thread_parker.h"

namespace tether::detail {
namespace {

void add_thread(WaitGraph& g, Worker& w, const char* kind) {
  ThreadNode t;
  t.id = w.thread_id;
  t.name = w.name;
  t.kind = kind;
  t.tid = w.tid.load(std::memory_order_relaxed);
  t.in_syscall = w.in_syscall.load(std::memory_order_acquire);
  t.runnable = w.queued.load(std::memory_order_relaxed) +
               (w.runnext.load(std::memory_order_relaxed) ? 1 : 0);
  t.switches = w.switches.load(std::memory_order_relaxed);
  g.threads.push_back(std::move(t));
}

}  // namespace

WaitGraph take_snapshot() {
  WaitGraph g;
  g.time_ns = now_ns();
  g.pid = static_cast<int>(getpid());
  {
    char buf[256];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
      buf[n] = 0;
      g.program = buf;
    }
  }
  if (Runtime* rt = runtime()) {
    add_thread(g, rt->main_locker->worker, "main");
    const std::size_t n = rt->npool.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i) add_thread(g, *rt->pool[i].load(), "pool");
    std::lock_guard lk(rt->lockers_mu);
    for (auto& l : rt->lockers) {
      if (!l->exited.load(std::memory_order_acquire)) add_thread(g, l->worker, "locker");
    }
  }
  // Plain threads in call() before the fibers: one listed here whose call
  // fiber is still there when the fibers are read was in call() all along
  // (it leaves only after that fiber has run to its end).
  for (const PlainCall& c : plain_calls()) {
    PlainThreadNode n;
    n.id = c.thread;
    n.name = "thread " + std::to_string(c.tid);
    n.tid = c.tid;
    n.call_fiber = c.call_fiber;
    n.locker = c.locker;
    n.since_ns = c.since_ns;
    n.site = c.site;
    g.plain_threads.push_back(std::move(n));
  }
  std::vector<std::pair<std::size_t, std::uint64_t>> lock_waits;  // fiber index, thread
  FiberRegistry::instance().for_each([&](Fiber& f) {
    if (f.abandoned.load(std::memory_order_relaxed)) return;  // from an earlier run()
    if (f.done.load(std::memory_order_acquire)) return;       // finished, leaving the registry
    FiberNode n;
    const auto w = f.wait.read();
    n.id = f.id;
    n.name = f.name;
    n.reason = w.reason;
    n.object_id = w.object_id;
    if (w.object_name) n.object_name = w.object_name;
    n.since_ns = w.since_ns;
    n.version = w.version;
    n.timed = w.timed;
    n.site = w.site;
    n.created_at = f.created_at;
    n.parent = f.parent;
    n.is_call = f.is_call.load(std::memory_order_relaxed);
    if (Locker* l = f.locker.load(std::memory_order_acquire)) n.locked_to = l->worker.thread_id;
    if (Worker* wk = f.worker.load(std::memory_order_relaxed)) n.thread = wk->thread_id;
    if (w.reason == WaitReason::syscall) {
      if (const char* s = f.syscall_name.load(std::memory_order_relaxed)) n.syscall = s;
      n.fd = f.syscall_fd.load(std::memory_order_relaxed);
      FdTable::Info a, b;
      if (FdTable::instance().info(n.fd, a) && a.peer >= 0) {
        n.peer_fd = a.peer;
        n.fd_creator = a.creator;
        n.fd_watermark = a.watermark;
        n.fd_users = a.users;
        if (FdTable::instance().info(a.peer, b))
          n.fd_users.insert(n.fd_users.end(), b.users.begin(), b.users.end());
      } else if (const std::uint64_t t = preload_lock_owner_thread(f.id)) {
        lock_waits.emplace_back(g.fibers.size(), t);
      }
    }
    g.fibers.push_back(std::move(n));
  });
  // A pthread_mutex_lock (libtether_preload.so) on a mutex owned by the
  // waiter's own locked thread: only a fiber locked there can hold it.
  for (auto [ix, thread] : lock_waits) {
    FiberNode& n = g.fibers[ix];
    n.fd_watermark = ~std::uint64_t{0};  // no later fibers: the holder exists already
    n.fd_users.push_back(n.id);
    for (const FiberNode& o : g.fibers)
      if (o.locked_to == thread && o.id != n.id) n.fd_users.push_back(o.id);
  }
  ObjectRegistry::instance().for_each([&](const SyncObject& o) {
    ObjectNode n;
    n.id = o.object_id();
    n.kind = o.kind();
    n.name = o.object_name();
    n.created_at = o.created_at();
    n.creator = o.creator_fiber();
    n.watermark = o.fiber_watermark();
    if (o.published()) o.describe(n.state);  // else still being constructed
    g.objects.push_back(std::move(n));
  });
  g.index();
  build_edges(g);
  return g;
}

}  // namespace tether::detail
