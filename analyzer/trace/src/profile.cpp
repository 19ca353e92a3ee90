// BlockingProfile: waits accumulated per reason and per (reason, site, stack).
#include "profile.h"

#include <algorithm>

namespace tether::trace::detail {

bool ProfileBuilder::blocking(WaitReason r) {
  return r != WaitReason::running && r != WaitReason::runnable && r != WaitReason::dead;
}

void ProfileBuilder::transition(const FiberState& f, std::int64_t now) {
  if (!blocking(f.reason) || f.exited) return;
  const std::int64_t d = std::max<std::int64_t>(0, now - f.since);
  const auto reason = static_cast<std::uint8_t>(f.reason);
  by_reason_[reason].add(d);
  by_site_[{reason, f.site, f.stack}].add(d);
}

BlockingProfile ProfileBuilder::finish(std::int64_t end, const State& state) {
  for (const auto& [id, f] : state.fibers()) {
    (void)id;
    transition(f, end);
  }
  BlockingProfile p;
  for (const auto& [reason, acc] : by_reason_) {
    ProfileEntry e;
    e.reason = std::string(to_string(static_cast<WaitReason>(reason)));
    e.count = acc.count;
    e.total_ns = acc.total;
    e.max_ns = acc.max;
    p.by_reason.push_back(std::move(e));
  }
  for (const auto& [key, acc] : by_site_) {
    const auto& [reason, site, stack] = key;
    ProfileEntry e;
    e.reason = std::string(to_string(static_cast<WaitReason>(reason)));
    e.site = t_.site(site);
    e.stack = stack;
    e.frames = t_.stack(stack);
    e.count = acc.count;
    e.total_ns = acc.total;
    e.max_ns = acc.max;
    p.by_site.push_back(std::move(e));
  }
  auto order = [](const ProfileEntry& a, const ProfileEntry& b) {
    if (a.total_ns != b.total_ns) return a.total_ns > b.total_ns;
    if (a.reason != b.reason) return a.reason < b.reason;
    if (a.site.file != b.site.file) return a.site.file < b.site.file;
    if (a.site.line != b.site.line) return a.site.line < b.site.line;
    return a.stack < b.stack;
  };
  std::sort(p.by_reason.begin(), p.by_reason.end(), order);
  std::sort(p.by_site.begin(), p.by_site.end(), order);
  return p;
}

}  // namespace tether::trace::detail
