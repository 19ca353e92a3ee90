// The wait-for graph's data model: names, node ids, lookups and edges.
//
// Part of tether_wait_model (no runtime state): libtether's take_snapshot()
// and the offline trace analyzer both build WaitGraphs with it.
#include <algorithm>

#include "sync_object.h"
#include "tether/wait_reason.h"
#include "wait_graph.h"

namespace tether {

std::string_view to_string(WaitReason r) noexcept {
  switch (r) {
    case WaitReason::running: return "running";
    case WaitReason::runnable: return "runnable";
    case WaitReason::chan_send: return "chan send";
    case WaitReason::chan_receive: return "chan receive";
    case WaitReason::select: return "select";
    case WaitReason::select_no_cases: return "select (no cases)";
    case WaitReason::mutex_lock: return "mutex lock";
    case WaitReason::rwmutex_rlock: return "rwmutex rlock";
    case WaitReason::rwmutex_lock: return "rwmutex lock";
    case WaitReason::cond_wait: return "cond wait";
    case WaitReason::waitgroup_wait: return "waitgroup wait";
    case WaitReason::once_wait: return "once wait";
    case WaitReason::join: return "join";
    case WaitReason::sleep: return "sleep";
    case WaitReason::syscall: return "syscall";
    case WaitReason::waiting_for_thread: return "waiting for thread";
    case WaitReason::call: return "call";
    case WaitReason::dead: return "dead";
  }
  return "unknown";
}

}  // namespace tether

namespace tether::detail {

std::string_view to_string(ObjectKind k) noexcept {
  switch (k) {
    case ObjectKind::chan: return "chan";
    case ObjectKind::mutex: return "mutex";
    case ObjectKind::rwmutex: return "rwmutex";
    case ObjectKind::cond_var: return "cond_var";
    case ObjectKind::wait_group: return "wait_group";
    case ObjectKind::once: return "once";
    case ObjectKind::locker: return "locker";
  }
  return "object";
}

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

std::string plain_node_id(std::uint64_t plain_id) {
  return node_id("plain", plain_thread_number(plain_id));
}

std::string object_node_id(const ObjectNode& o) {
  if (o.kind == ObjectKind::locker) return node_id("thread", o.id);
  return node_id(to_string(o.kind), o.id);
}

void WaitGraph::index() {
  std::sort(fibers.begin(), fibers.end(), [](auto& a, auto& b) { return a.id < b.id; });
  std::sort(objects.begin(), objects.end(), [](auto& a, auto& b) { return a.id < b.id; });
  std::sort(threads.begin(), threads.end(), [](auto& a, auto& b) { return a.id < b.id; });
  std::sort(plain_threads.begin(), plain_threads.end(),
            [](auto& a, auto& b) { return a.id < b.id; });
  fiber_ix_.clear();
  object_ix_.clear();
  thread_ix_.clear();
  plain_ix_.clear();
  for (std::size_t i = 0; i < plain_threads.size(); ++i) plain_ix_[plain_threads[i].id] = i;
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

const PlainThreadNode* WaitGraph::plain_thread(std::uint64_t id) const {
  auto it = plain_ix_.find(id);
  return it == plain_ix_.end() ? nullptr : &plain_threads[it->second];
}

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

void build_edges(WaitGraph& g) {
  for (const auto& o : g.objects) {
    const std::string on = object_node_id(o);
    for (std::uint64_t h : o.state.holders) {
      // A plain thread holds it: a node only while it is in call() (else it
      // may act, and there is nothing to point at).
      if (is_plain_thread_id(h)) {
        if (g.plain_thread(h)) g.edges.push_back({on, plain_node_id(h), EdgeKind::held_by, 0});
      } else if (h) {
        g.edges.push_back({on, node_id("fiber", h), EdgeKind::held_by, 0});
      }
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
  for (const auto& p : g.plain_threads) {
    if (g.fiber(p.call_fiber))
      g.edges.push_back(
          {plain_node_id(p.id), node_id("fiber", p.call_fiber), EdgeKind::waits_for, p.since_ns});
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

}  // namespace tether::detail
