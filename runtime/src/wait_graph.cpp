// take_snapshot(): the runtime as a WaitGraph.
#include "wait_graph.h"

#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "fd_table.h"
#include "fiber_impl.h"
#include "fiber_registry.h"
#include "locker.h"
#include "object_registry.h"
#include "runtime_state.h"
#include "thread_parker.h"

namespace tether::detail {

std::string_view to_string(EdgeKind k) noexcept {
  switch (k) {
    case EdgeKind::waits_for: return "waits_for";
    case EdgeKind::held_by: return "held_by";
    case EdgeKind::locked_to: return "locked_to";
    case EdgeKind::occupies: return "occupies";
  }
  return "?";
}

std::string node_id(std::string_view kind, std::uint64_t id) {
  std::string s(kind);
  s += ':';
  s += std::to_string(id);
  return s;
}

std::string object_node_id(const ObjectNode& o) {
  if (o.kind == ObjectKind::locker) return node_id("thread", o.id);
  return node_id(to_string(o.kind), o.id);
}

void WaitGraph::index() {
  std::sort(fibers.begin(), fibers.end(), [](auto& a, auto& b) { return a.id < b.id; });
  std::sort(objects.begin(), objects.end(), [](auto& a, auto& b) { return a.id < b.id; });
  std::sort(threads.begin(), threads.end(), [](auto& a, auto& b) { return a.id < b.id; });
  fiber_ix_.clear();
  object_ix_.clear();
  thread_ix_.clear();
  for (std::size_t i = 0; i < fibers.size(); ++i) fiber_ix_[fibers[i].id] = i;
  for (std::size_t i = 0; i < objects.size(); ++i) object_ix_[objects[i].id] = i;
  for (std::size_t i = 0; i < threads.size(); ++i) thread_ix_[threads[i].id] = i;
}

const FiberNode* WaitGraph::fiber(std::uint64_t id) const {
  auto it = fiber_ix_.find(id);
  return it == fiber_ix_.end() ? nullptr : &fibers[it->second];
}
const ObjectNode* WaitGraph::object(std::uint64_t id) const {
  auto it = object_ix_.find(id);
  return it == object_ix_.end() ? nullptr : &objects[it->second];
}
const ThreadNode* WaitGraph::thread(std::uint64_t id) const {
  auto it = thread_ix_.find(id);
  return it == thread_ix_.end() ? nullptr : &threads[it->second];
}

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


void build_edges(WaitGraph& g) {
  for (const auto& o : g.objects) {
    const std::string on = object_node_id(o);
    for (std::uint64_t h : o.state.holders) {
      if (h) g.edges.push_back({on, node_id("fiber", h), EdgeKind::held_by, 0});
    }
  }
  for (auto& t : g.threads) t.running = 0;
  for (const auto& f : g.fibers) {
    const std::string fn = node_id("fiber", f.id);
    if (f.locked_to) g.edges.push_back({fn, node_id("thread", f.locked_to), EdgeKind::locked_to, 0});
    switch (f.reason) {
      case WaitReason::running:
        if (f.thread) {
          for (auto& t : g.threads)
            if (t.id == f.thread) t.running = f.id;
        }
        break;
      case WaitReason::syscall: {
        if (f.thread) {
          // A system call node is named after the thread it occupies.
          const std::string sn = node_id("syscall", f.thread);
          g.edges.push_back({fn, sn, EdgeKind::waits_for, f.since_ns});
          g.edges.push_back({sn, node_id("thread", f.thread), EdgeKind::occupies, f.since_ns});
          for (auto& t : g.threads)
            if (t.id == f.thread) t.running = f.id;
        }
        break;
      }
      case WaitReason::runnable:
        if (f.locked_to)
          g.edges.push_back({fn, node_id("thread", f.locked_to), EdgeKind::waits_for, f.since_ns});
        break;
      case WaitReason::waiting_for_thread:
        if (f.object_id) {
          g.edges.push_back({fn, node_id("thread", f.object_id), EdgeKind::waits_for, f.since_ns});
        }
        break;
      case WaitReason::join:
        g.edges.push_back({fn, node_id("fiber", f.object_id), EdgeKind::waits_for, f.since_ns});
        break;
      case WaitReason::call:
        // The call runs in a fiber the caller created on the locker.
        for (const auto& c : g.fibers) {
          if (c.is_call && c.parent == f.id)
            g.edges.push_back({fn, node_id("fiber", c.id), EdgeKind::waits_for, f.since_ns});
        }
        break;
      default:
        break;
    }
  }
  // Object waits come from the objects' queues: a select waits on several.
  for (const auto& o : g.objects) {
    const std::string on = object_node_id(o);
    for (auto [fid, send_side] : o.state.waiting) {
      (void)send_side;
      const FiberNode* f = g.fiber(fid);
      if (f) g.edges.push_back({node_id("fiber", fid), on, EdgeKind::waits_for, f->since_ns});
    }
  }
  // A fiber blocked on an object it is not (yet) queued on: use its wait state.
  for (const auto& f : g.fibers) {
    if (!waits_on_object(f.reason) || !f.object_id) continue;
    const ObjectNode* o = g.object(f.object_id);
    if (!o) continue;
    bool queued = false;
    for (auto [fid, s] : o->state.waiting) queued |= fid == f.id;
    if (!queued)
      g.edges.push_back({node_id("fiber", f.id), object_node_id(*o), EdgeKind::waits_for,
                         f.since_ns});
  }
}

}  // namespace

bool waits_on_object(WaitReason r) noexcept {
  switch (r) {
    case WaitReason::chan_send:
    case WaitReason::chan_receive:
    case WaitReason::select:
    case WaitReason::mutex_lock:
    case WaitReason::rwmutex_rlock:
    case WaitReason::rwmutex_lock:
    case WaitReason::cond_wait:
    case WaitReason::waitgroup_wait:
    case WaitReason::once_wait:
      return true;
    default:
      return false;
  }
}

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
    n.is_call = f.is_call;
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
      }
    }
    g.fibers.push_back(std::move(n));
  });
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
