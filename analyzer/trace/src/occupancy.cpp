// Occupancy: spans of a shared thread held by one fiber.
#include "occupancy.h"

#include <algorithm>

namespace tether::trace::detail {

bool OccupancyTracker::shared(const State& s, std::uint64_t thread) const {
  const ThreadState* t = s.thread(thread);
  return t && (t->kind == "main" || t->kind == "locker");
}

void OccupancyTracker::open(std::uint64_t thread, std::uint64_t fiber, bool syscall, const Rec& r) {
  Open& o = open_[thread];
  o = Open{};
  o.active = true;
  o.fiber = fiber;
  o.syscall = syscall;
  o.start = r.time;
  if (syscall) {
    o.call = r.text;
    o.fd = static_cast<int>(r.a);
    o.site = r.site;
  }
}

void OccupancyTracker::close(std::uint64_t thread, std::int64_t end, bool ongoing,
                             const State& state) {
  auto it = open_.find(thread);
  if (it == open_.end() || !it->second.active) return;
  Open& o = it->second;
  o.active = false;
  if (o.waiters_since >= 0) o.longest_wait = std::max(o.longest_wait, end - o.waiters_since);
  Occupancy occ;
  occ.thread = thread;
  if (const ThreadState* t = state.thread(thread)) occ.thread_name = t_.str(t->name);
  occ.fiber = o.fiber;
  occ.what = o.syscall ? t_.str(o.call) + (o.fd >= 0 ? "(fd " + std::to_string(o.fd) + ")" : "()")
                       : "running without yielding";
  occ.start_ns = o.start;
  occ.duration_ns = std::max<std::int64_t>(0, end - o.start);
  occ.waiting = o.waiting;
  occ.ongoing = ongoing;
  if (o.syscall) {
    occ.site = t_.site(o.site);
  } else if (const FiberState* f = state.fiber(o.fiber)) {
    // Where it last waited; a fiber that never waited: where it was created.
    occ.site = t_.site(f->site ? f->site : f->created_site);
  }
  if (stall_ns_ > 0 && o.longest_wait >= stall_ns_) stalls_.push_back(occ);
  auto& kept = kept_[thread];
  kept.push_back(std::move(occ));
  if (kept.size() > 2 * top_ + 8) {
    std::sort(kept.begin(), kept.end(),
              [](const Occupancy& a, const Occupancy& b) { return a.duration_ns > b.duration_ns; });
    kept.resize(top_);
  }
}

void OccupancyTracker::apply(const Rec& r, const State& state) {
  switch (r.type) {
    case EventType::run:
      if (shared(state, r.thread)) {
        close(r.thread, r.time, false, state);
        open(r.thread, r.fiber, false, r);
      }
      break;
    case EventType::syscall_enter:
      if (r.fiber && shared(state, r.thread)) {
        close(r.thread, r.time, false, state);
        open(r.thread, r.fiber, true, r);
      }
      break;
    case EventType::syscall_exit:
      if (r.fiber && shared(state, r.thread)) {
        close(r.thread, r.time, false, state);
        open(r.thread, r.fiber, false, r);
      }
      break;
    case EventType::park:
    case EventType::fiber_exit: {
      const FiberState* f = state.fiber(r.fiber);
      const std::uint64_t t = f ? f->thread : 0;
      auto it = open_.find(t);
      if (it != open_.end() && it->second.active && it->second.fiber == r.fiber)
        close(t, r.time, false, state);
      break;
    }
    default:
      break;
  }
  for (auto& [thread, o] : open_) {
    if (!o.active) continue;
    const std::size_t n = state.runnable_on(thread);
    o.waiting = std::max(o.waiting, n);
    if (n > 0 && o.waiters_since < 0) {
      o.waiters_since = r.time;
    } else if (n == 0 && o.waiters_since >= 0) {
      o.longest_wait = std::max(o.longest_wait, r.time - o.waiters_since);
      o.waiters_since = -1;
    }
  }
}

std::vector<Occupancy> OccupancyTracker::finish(std::int64_t end, const State& state) {
  for (auto& [thread, o] : open_)
    if (o.active) close(thread, end, true, state);
  std::vector<Occupancy> out;
  for (auto& [thread, kept] : kept_) {
    (void)thread;
    std::sort(kept.begin(), kept.end(), [](const Occupancy& a, const Occupancy& b) {
      if (a.duration_ns != b.duration_ns) return a.duration_ns > b.duration_ns;
      return a.start_ns < b.start_ns;
    });
    if (kept.size() > top_) kept.resize(top_);
    out.insert(out.end(), kept.begin(), kept.end());
  }
  return out;
}

}  // namespace tether::trace::detail
