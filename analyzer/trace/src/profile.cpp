// BlockingProfile: waits accumulated per reason and per (reason, site, stack).
#include "profile.h"

#include <algorithm>

namespace tether::trace::detail {

bool ProfileBuilder::blocking(WaitReason r) {
  return r != WaitReason::running && r != WaitReason::runnable && r != WaitReason::dead;
}

void ProfileBuilder::add(WaitReason r, std::uint32_t site, std::uint32_t stack, std::int64_t d) {
  const auto reason = static_cast<std::size_t>(r);
  if (reason >= kReasons) return;
  by_reason_[reason].add(d);
  by_site_[reason][(std::uint64_t{site} << 32) | stack].add(d);
}

void ProfileBuilder::transition(const FiberState& f, std::int64_t now) {
  if (!blocking(f.reason) || f.exited) return;
  add(f.reason, f.site, f.stack, std::max<std::int64_t>(0, now - f.since));
}

void ProfileBuilder::plain_wait_ended(const ThreadState::PlainWait& w, std::int64_t now) {
  if (!blocking(w.reason)) return;
  add(w.reason, w.site, w.stack, std::max<std::int64_t>(0, now - w.since));
}

BlockingProfile ProfileBuilder::finish(std::int64_t end, const State& state) {
  for (const auto& [id, f] : state.fibers()) {
    (void)id;
    transition(f, end);
  }
  for (const auto& [id, t] : state.threads()) {
    (void)id;
    plain_wait_ended(t.plain_wait, end);
  }
  BlockingProfile p;
  for (std::size_t reason = 0; reason < kReasons; ++reason) {
    const Acc& acc = by_reason_[reason];
    if (acc.count == 0) continue;
    ProfileEntry e;
    e.reason = std::string(to_string(static_cast<WaitReason>(reason)));
    e.count = acc.count;
    e.total_ns = acc.total;
    e.max_ns = acc.max;
    p.by_reason.push_back(std::move(e));
    for (const auto& [key, sacc] : by_site_[reason]) {
      ProfileEntry s;
      s.reason = p.by_reason.back().reason;
      s.site = t_.site(static_cast<std::uint32_t>(key >> 32));
      s.stack = static_cast<std::uint32_t>(key);
      s.frames = t_.stack(s.stack);
      s.count = sacc.count;
      s.total_ns = sacc.total;
      s.max_ns = sacc.max;
      p.by_site.push_back(std::move(s));
    }
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
