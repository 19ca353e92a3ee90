#include "tether/trace/trace_summary.h"

#include <algorithm>

namespace tether::trace {

void TraceSummary::Ids::insert(std::uint64_t id) {
  constexpr std::uint64_t kDense = 1u << 24;
  if (id >= kDense) {
    size_ += sparse_.insert(id).second;
    return;
  }
  const std::size_t word = id / 64;
  if (word >= bits_.size()) bits_.resize(std::max(word + 1, bits_.size() * 2));
  const std::uint64_t bit = std::uint64_t{1} << (id % 64);
  if (!(bits_[word] & bit)) {
    bits_[word] |= bit;
    ++size_;
  }
}

void TraceSummary::add(const Event& e) {
  ++events_;
  ++counts_[static_cast<std::size_t>(e.type)];
  // Metadata (site, stack) has no time, fiber, thread or object.
  if (e.type == EventType::site || e.type == EventType::stack) return;
  if (!timed_) {
    first_ns_ = last_ns_ = e.time_ns;
    timed_ = true;
  }
  first_ns_ = std::min(first_ns_, e.time_ns);
  last_ns_ = std::max(last_ns_, e.time_ns);
  if (e.fiber != 0) fibers_.insert(e.fiber);
  if (e.type == EventType::fiber_create && e.other != 0) fibers_.insert(e.other);
  if (e.thread != 0) threads_.insert(e.thread);
  if (e.object != 0) objects_.insert(e.object);  // lockers are objects too
}

}  // namespace tether::trace
