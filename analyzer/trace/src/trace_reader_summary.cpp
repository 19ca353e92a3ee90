#include "tether/trace/trace_summary.h"

namespace tether::trace {

void TraceSummary::add(const Event& e) {
  if (events_ == 0) first_ns_ = e.time_ns;
  ++events_;
  ++counts_[static_cast<std::size_t>(e.type)];
  if (e.time_ns < first_ns_) first_ns_ = e.time_ns;
  if (e.time_ns > last_ns_) last_ns_ = e.time_ns;
  switch (e.type) {
    case EventType::site:
    case EventType::stack:
      return;  // metadata: no fiber, thread or object
    case EventType::fiber_create:
      if (e.other != 0) fibers_.insert(e.other);
      break;
    default:
      break;
  }
  if (e.fiber != 0) fibers_.insert(e.fiber);
  if (e.thread != 0 || e.type == EventType::thread_start) threads_.insert(e.thread);
  if (e.object != 0 && e.type != EventType::call_begin && e.type != EventType::call_end &&
      e.type != EventType::thread_lock && e.type != EventType::thread_unlock &&
      e.type != EventType::thread_start)
    objects_.insert(e.object);
}

}  // namespace tether::trace
