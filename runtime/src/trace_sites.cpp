#include "trace_sites.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include <mutex>
#include <unordered_map>

#include "fcontext_layout.h"
#include "fiber_impl.h"
#include "scheduler.h"

namespace tether::detail::trace {
namespace {

constexpr int kMaxFrames = 48;

struct SiteEntry {
  std::uint32_t id = 0;
  std::uint32_t stack = 0;
};

struct SiteTable {
  std::mutex mu;
  std::unordered_map<const void*, SiteEntry> sites;
  std::uint32_t next_site = 1;
  std::uint32_t next_stack = 1;
  std::vector<PendingSite> pending_sites;
  std::vector<PendingStack> pending_stacks;
};

SiteTable& table() {
  static SiteTable* t = new SiteTable;  // used until the process ends
  return *t;
}

// The calling context's stack, innermost first, within the running fiber's
// stack (its bottom is the switch code, which has no unwind info).
std::vector<std::uintptr_t> capture_here() noexcept {
  std::vector<std::uintptr_t> pcs;
  try {
    pcs.reserve(kMaxFrames);
  } catch (...) {
    return pcs;
  }
  std::uintptr_t lo = 0, hi = 0;
  if (Worker* w = current_worker(); w && w->current) {
    lo = reinterpret_cast<std::uintptr_t>(w->current->stack.base);
    hi = reinterpret_cast<std::uintptr_t>(w->current->stack.top());
  }
  unw_context_t uc;
  unw_cursor_t cur;
  if (unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0) return pcs;
  while (pcs.size() < static_cast<std::size_t>(kMaxFrames)) {
    unw_word_t ip = 0, sp = 0;
    if (unw_get_reg(&cur, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    if (!pcs.empty() && in_switch_code(ip)) break;
    unw_get_reg(&cur, UNW_REG_SP, &sp);
    if (hi != 0 && (sp < lo || sp > hi)) break;
    pcs.push_back(ip);
    if (unw_step(&cur) <= 0) break;
  }
  // The first frame is capture_here itself: not a return address.
  if (!pcs.empty()) pcs.erase(pcs.begin());
  return pcs;
}

}  // namespace

SiteIds intern_site_slow(TraceTls& t, const void* key, const std::source_location& loc,
                         bool want_stack) noexcept {
  SiteTable& tab = table();
  SiteIds ids;
  bool need_stack = false;
  try {
    {
      std::lock_guard lk(tab.mu);
      auto [it, fresh] = tab.sites.try_emplace(key);
      if (fresh) {
        it->second.id = tab.next_site++;
        tab.pending_sites.push_back({it->second.id, loc});
      }
      ids.site = it->second.id;
      ids.stack = it->second.stack;
      need_stack = want_stack && ids.stack == 0;
    }
    if (need_stack) {
      // Unwind outside the lock; a racing thread may capture the same site too,
      // and the first to come back wins.
      std::vector<std::uintptr_t> pcs = capture_here();
      std::lock_guard lk(tab.mu);
      SiteEntry& e = tab.sites[key];
      if (e.stack == 0) {
        e.stack = tab.next_stack++;
        tab.pending_stacks.push_back({e.stack, std::move(pcs)});
      }
      ids.stack = e.stack;
    }
  } catch (...) {
    return ids;  // out of memory: the event goes without its site
  }
  if (t.sites && t.sites_gen == t.gen) {
    SiteCacheEntry& c = t.sites[(reinterpret_cast<std::uintptr_t>(key) >> 3) % kSiteCacheSize];
    c.key = key;
    c.site = ids.site;
    c.stack = ids.stack;
  }
  if (!want_stack) ids.stack = 0;
  return ids;
}

bool take_pending(std::vector<PendingSite>* sites, std::vector<PendingStack>* stacks,
                  bool only_if_free) {
  SiteTable& tab = table();
  std::unique_lock lk(tab.mu, std::defer_lock);
  if (only_if_free) {
    if (!lk.try_lock()) return false;
  } else {
    lk.lock();
  }
  sites->swap(tab.pending_sites);
  stacks->swap(tab.pending_stacks);
  tab.pending_sites.clear();
  tab.pending_stacks.clear();
  return true;
}

void reset_sites() {
  SiteTable& tab = table();
  std::lock_guard lk(tab.mu);
  tab.sites.clear();
  tab.next_site = 1;
  tab.next_stack = 1;
  tab.pending_sites.clear();
  tab.pending_stacks.clear();
}

}  // namespace tether::detail::trace
