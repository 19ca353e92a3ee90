// Sites and stacks of the trace (internal): each distinct call site gets a
// small id, written once as a `site` record; the first time a fiber blocks
// (or takes a lock) at a site, its call stack is captured and gets a stack
// id, written once as a `stack` record, symbolized by the writer thread.
//
// A site is keyed by its std::source_location's pointer (the compiler emits
// one static record per call site), so the hot path is a lookup in a small
// per-thread cache; only the first sight of a site on a thread takes the
// table's lock, and only the first sight of a blocking site overall unwinds
// the stack. Ids restart with each session.
//
// Ordering: a site or stack is queued for the writer before the id is
// returned, so it is queued before any record that uses the id is committed;
// the writer drains this queue after taking the buffers it writes, which
// puts every definition in the file before its first use.
#pragma once

#include <cstdint>
#include <cstring>
#include <source_location>
#include <vector>

#include "trace_buffer.h"

namespace tether::detail::trace {

struct SiteIds {
  std::uint32_t site = 0;
  std::uint32_t stack = 0;  // 0 unless a stack was asked for and captured
};

SiteIds intern_site_slow(TraceTls& t, const void* key, const std::source_location& loc,
                         bool want_stack) noexcept;

inline const void* site_key(const std::source_location& loc) noexcept {
  static_assert(sizeof(std::source_location) == sizeof(const void*));
  const void* k;
  std::memcpy(&k, &loc, sizeof k);
  return k;
}

// The ids of loc (0 for a default-constructed location). want_stack: also
// its stack id, capturing the stack if this is the site's first blocking use.
inline SiteIds intern_site(const std::source_location& loc, bool want_stack) noexcept {
  const void* key = site_key(loc);
  if (!key) return {};
  TraceTls& t = tls_trace;
  if (t.sites && t.sites_gen == t.gen) {
    const SiteCacheEntry& e =
        t.sites[(reinterpret_cast<std::uintptr_t>(key) >> 3) % kSiteCacheSize];
    if (e.key == key && (e.stack != 0 || !want_stack)) return {e.site, want_stack ? e.stack : 0};
  }
  return intern_site_slow(t, key, loc, want_stack);
}

// ---- the writer's side ----

struct PendingSite {
  std::uint32_t id;
  std::source_location loc;
};
struct PendingStack {
  std::uint32_t id;
  std::vector<std::uintptr_t> pcs;  // innermost first, return addresses
};

// Moves the definitions queued since the last call into *sites / *stacks.
// only_if_free: give up (false) rather than wait for the table's lock (a
// crashing thread may hold it).
bool take_pending(std::vector<PendingSite>* sites, std::vector<PendingStack>* stacks,
                  bool only_if_free = false);

// Forgets every site and stack (a new session numbers them from 1 again).
void reset_sites();

}  // namespace tether::detail::trace
