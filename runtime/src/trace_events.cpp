// Recording: the out-of-line half of the hooks, and the per-thread slow
// paths (registration, buffer refill, lost events, thread exit).
#include "trace_events.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <new>
#include <string>

#include "fd_table.h"
#include "fiber_impl.h"
#include "locker.h"
#include "object_registry.h"
#include "scheduler.h"
#include "sync_object.h"
#include "trace_sites.h"
#include "trace_writer.h"
#include "waiter.h"

namespace tether::detail::trace {
namespace {

constexpr std::size_t kMaxName = 4096;
constexpr std::size_t kMaxFindingFibers = 4096;

inline std::uint64_t caller() noexcept {
  Worker* w = current_worker();
  Fiber* f = w ? w->current : nullptr;
  return f ? f->id : 0;
}

std::string_view cut(std::string_view s) noexcept {
  return s.size() > kMaxName ? s.substr(0, kMaxName) : s;
}

void end_thread_buffer(TraceTls& t) noexcept;

// Room for a small record in the current session's buffer (refill()); false:
// record nothing.
inline bool reserve_small(TraceTls& t) noexcept {
  if (t.gen != g_gen.load(std::memory_order_acquire) ||
      static_cast<std::size_t>(t.end - t.pos) < kMaxSmallRecord) [[unlikely]] {
    return refill(t, kMaxSmallRecord);
  }
  return true;
}


// The one-store forms below compose a record's bytes in a little-endian word.
static_assert(std::endian::native == std::endian::little);

// A chan_send (fiber, object[, woke, done]) or chan_recv (fiber, object, ok[,
// woke, done]): one path for the four shapes, the hottest record there is.
// shared: at the thread's last reading. False if nothing was recorded.
inline bool append_chan_op(TraceTls& t, bool shared, Rec type, std::uint64_t fiber,
                           std::uint64_t object, std::uint64_t ok, std::uint64_t woke,
                           std::uint64_t done) noexcept {
  if (!reserve_small(t)) return false;
  std::uint8_t* p = t.pos;
  const bool recv = type == Rec::chan_recv;
  if (shared && (fiber | object | ok | woke) < 0x80) {
    // The common case, one store: dt 0 and every field one byte.
    const unsigned n = 3 + (recv ? 1 : 0) + (woke ? 2 : 0);  // len: dt and the fields
    std::uint64_t w = static_cast<std::uint64_t>(type) | std::uint64_t{n} << 8 | fiber << 24 |
                      object << 32;
    unsigned at = 40;
    if (recv) w |= ok << 40, at = 48;
    if (woke) w |= woke << at | done << (at + 8);
    std::memcpy(p, &w, 8);  // (room: kMaxSmallRecord)
    std::uint8_t* const q = p + 2 + n;
    commit(t, q, t.last_ticks);
    if (woke) t.woke_end = q;
    return true;
  }
  const std::uint64_t now = shared ? t.last_ticks : read_clock(t);
  p[0] = static_cast<std::uint8_t>(type);
  std::uint8_t* const body = p + 2;
  std::uint8_t* q = put_uv(body, now - t.last_ticks);
  q = put_uv(q, fiber);
  q = put_uv(q, object);
  if (type == Rec::chan_recv) q = put_uv(q, ok);
  if (woke) {
    q = put_uv(q, woke);
    *q++ = static_cast<std::uint8_t>(done);
  }
  p[1] = static_cast<std::uint8_t>(q - body);
  commit(t, q, now);
  if (woke) t.woke_end = q;
  return true;
}


// Runs when a thread that recorded exits: its last records go to the writer.
struct ThreadExit {
  ~ThreadExit() {
    TraceTls& t = tls_trace;
    if (t.gen != 0 && t.gen == g_gen.load(std::memory_order_acquire)) {
      append(Rec::thread_exit);
    }
    end_thread_buffer(t);
    t.dead = true;  // nothing below records again: the site cache can go
    delete[] t.sites;
    t.sites = nullptr;
  }
};

// Hands the thread's buffer to the writer, with its record count and last ticks.
void seal_and_hand_off(TraceTls& t) noexcept {
  t.buf->records = t.records;
  t.buf->end_ticks = t.last_ticks;
  hand_off(t.buf);
}

void end_thread_buffer(TraceTls& t) noexcept {
  if (!t.buf) return;
  if (t.thread) t.thread->current.store(nullptr, std::memory_order_release);
  seal_and_hand_off(t);
  t.buf = nullptr;
  t.pos = t.end = nullptr;
}

bool take_buffer(TraceTls& t) noexcept {
  TraceBuffer* b = acquire_buffer();
  if (!b) return false;
  // Marks into the old buffer: a recycled buffer could match one by chance.
  t.park_end = t.run_end = t.woke_end = nullptr;
  b->base_ticks = t.last_ticks;
  b->owner = t.thread;
  b->tseq = t.thread->next_tseq++;
  t.buf = b;
  t.records = 0;
  t.pos = b->data;
  t.end = b->data + kBufferSize;
  t.thread->current.store(b, std::memory_order_release);
  return true;
}

// First record of a thread in a session: who it is.
void record_thread_start() noexcept {
  Worker* w = current_worker();
  ThreadKind kind = ThreadKind::plain;
  std::uint64_t locker = 0;
  std::string name;
  const int tid = static_cast<int>(syscall(SYS_gettid));
  try {
    if (w) {
      name = w->name;
      if (w->kind == Worker::pool) {
        kind = ThreadKind::pool;
      } else {
        kind = w->locker && w->locker->is_main ? ThreadKind::main : ThreadKind::locker;
        locker = w->thread_id;
      }
    } else {
      name = "thread " + std::to_string(tid);
    }
  } catch (...) {
  }
  const std::string_view n = cut(name);
  append_big(Rec::thread_start,
             uv_size(static_cast<std::uint8_t>(kind)) + uv_size(locker) +
                 uv_size(static_cast<std::uint64_t>(tid)) + str_size(n),
             [&](std::uint8_t* q) {
               q = put_uv(q, static_cast<std::uint8_t>(kind));
               q = put_uv(q, locker);
               q = put_uv(q, static_cast<std::uint64_t>(tid));
               return put_str(q, n);
             });
}

bool register_this_thread(TraceTls& t, std::uint32_t gen) noexcept {
  // A previous session's buffer: its writer is gone, nobody else holds it.
  if (t.buf) release_buffer(t.buf);
  t.buf = nullptr;
  t.pos = t.end = nullptr;
  t.gen = 0;
  Worker* w = current_worker();
  std::uint64_t id = 0;
  if (w) {
    id = w->thread_id;
  } else {
    try {
      id = ObjectRegistry::instance().allocate_id();
    } catch (...) {
      return false;
    }
  }
  ThreadTrace* tt = register_thread(id);
  if (!tt) return false;
  if (!t.sites) t.sites = new (std::nothrow) SiteCacheEntry[kSiteCacheSize];
  if (t.sites) std::fill(t.sites, t.sites + kSiteCacheSize, SiteCacheEntry{});
  t.thread = tt;
  t.last_ticks = ticks();
  t.lost = 0;
  t.share_left = t.share_cap = t.short_gaps = 0;
  if (!take_buffer(t)) return false;
  t.gen = gen;
  t.sites_gen = gen;
  static thread_local ThreadExit exit_hook;  // constructed once per thread, here
  (void)exit_hook;
  record_thread_start();
  return true;
}

}  // namespace

bool refill(TraceTls& t, std::size_t need) noexcept {
  const std::uint32_t gen = g_gen.load(std::memory_order_acquire);
  if (gen == 0 || t.dead) return false;
  if (t.gen != gen) {
    if (!register_this_thread(t, gen)) {
      ++t.lost;  // not reported: this thread has no place to say so
      return false;
    }
    if (static_cast<std::size_t>(t.end - t.pos) >= need) return true;
  }
  if (t.buf) {
    t.thread->current.store(nullptr, std::memory_order_release);
    seal_and_hand_off(t);
    t.buf = nullptr;
    t.pos = t.end = nullptr;
  }
  if (!take_buffer(t)) {
    ++t.lost;
    return false;
  }
  if (t.lost != 0) {
    const std::uint64_t n = t.lost;
    t.lost = 0;
    append(Rec::lost, n);
  }
  return static_cast<std::size_t>(t.end - t.pos) >= need;
}

// ---- sessions of tether::run ----

void start_for_run(Locker& main_locker) {
  const char* path = std::getenv("TETHER_TRACE");
  if (!path || !*path || !start_session(path)) return;
  // Created before tracing started: recorded now, so the trace knows the main thread.
  on_object_create(main_locker.object_id(), ObjectKind::locker, main_locker.object_name(),
                   main_locker.created_at());
}

void stop_for_run(std::int64_t status) {
  stop_session(status);
}

// ---- the records ----

void record_run(std::uint64_t fiber) noexcept {
  append(Rec::run, fiber);
  tls_trace.run_end = tls_trace.pos;
}

void record_switch_to(std::uint64_t fiber) noexcept {
  TraceTls& t = tls_trace;
  // Nothing recorded on this thread since its park: that park is this switch's.
  if (t.pos != nullptr && t.pos == t.park_end) {
    if (t.park_next == fiber) return;  // the park said it
    append_same_instant(Rec::run, fiber);
  } else {
    append(Rec::run, fiber);
  }
  t.run_end = t.pos;
}

void record_park(std::uint64_t fiber, WaitReason reason, std::uint64_t object,
                 const std::source_location& site, bool timed, std::uint64_t next) noexcept {
  TraceTls& t = tls_trace;
  const bool shared = take_shared_reading(t);
  const SiteIds ids = intern_site(site, true);
  if (!reserve_small(t)) {
    t.park_end = nullptr;
    return;
  }
  // One path for the shapes (reading or shared, next or not): the hottest
  // record with the channel hand-off.
  std::uint8_t* const p = t.pos;
  const auto r = static_cast<std::uint8_t>(reason);
  if (shared && (fiber | r | object | ids.site | ids.stack | next) < 0x80) {
    // The common case, two stores: dt 0 and every field one byte.
    const unsigned n = next ? 8 : 7;  // len: dt and the fields
    const std::uint64_t w = static_cast<std::uint64_t>(Rec::park) | std::uint64_t{n} << 8 |
                            fiber << 24 | std::uint64_t{r} << 32 | object << 40 |
                            std::uint64_t{ids.site} << 48 | std::uint64_t{ids.stack} << 56;
    std::memcpy(p, &w, 8);
    p[8] = timed ? 1 : 0;
    p[9] = static_cast<std::uint8_t>(next);
    std::uint8_t* const q = p + 2 + n;
    commit(t, q, t.last_ticks);
    t.park_end = q;
    t.park_next = next;
    return;
  }
  const std::uint64_t now = shared ? t.last_ticks : read_clock(t);
  p[0] = static_cast<std::uint8_t>(Rec::park);
  std::uint8_t* const body = p + 2;
  std::uint8_t* q = put_uv(body, now - t.last_ticks);
  q = put_uv(q, fiber);
  q = put_uv(q, r);
  q = put_uv(q, object);
  q = put_uv(q, ids.site);
  q = put_uv(q, ids.stack);
  *q++ = timed ? 1 : 0;
  if (next != 0) q = put_uv(q, next);
  p[1] = static_cast<std::uint8_t>(q - body);
  commit(t, q, now);
  // The switch's run is said by `next`, or may take this instant.
  t.park_end = q;
  t.park_next = next;
}

void record_plain_park(WaitReason reason, std::uint64_t object, const std::source_location& site,
                       bool timed) noexcept {
  const SiteIds ids = intern_site(site, true);
  append(Rec::park, 0u, static_cast<std::uint8_t>(reason), object, ids.site, ids.stack,
         timed ? 1u : 0u);
}

void record_plain_resume() noexcept {
  append(Rec::unpark, 0u, 0u);  // fiber 0 on its own thread: the plain thread; waker unknown
}

void record_unpark(std::uint64_t fiber, std::uint64_t waker) noexcept {
  TraceTls& t = tls_trace;
  // The channel record just before this wake already names the fiber.
  if (fiber == t.woke_fiber && t.pos == t.woke_end) {
    t.woke_fiber = 0;
    return;
  }
  append(Rec::unpark, fiber, waker == kCaller ? caller() : waker);
}

void record_fiber_create(std::uint64_t fiber, std::uint64_t parent,
                         const std::source_location& site, std::string_view name) noexcept {
  const SiteIds ids = intern_site(site, false);
  name = cut(name);
  const std::uint64_t thread = 0;  // a locked fiber gets a thread_lock right after
  append_big(
      Rec::fiber_create,
      uv_size(fiber) + uv_size(parent) + uv_size(ids.site) + uv_size(thread) + str_size(name),
      [&](std::uint8_t* q) {
        q = put_uv(q, fiber);
        q = put_uv(q, parent);
        q = put_uv(q, ids.site);
        q = put_uv(q, thread);
        return put_str(q, name);
      });
}

void record_fiber_exit(std::uint64_t fiber) noexcept {
  append(Rec::fiber_exit, fiber);
}

void record_thread_lock(Rec type, std::uint64_t fiber, std::uint64_t thread,
                        std::uint64_t locker) noexcept {
  append(type, fiber, thread, locker);
}

void record_call(Rec type, std::uint64_t locker, std::uint64_t runner) noexcept {
  append(type, caller(), locker, runner);
}

void record_object_create(std::uint64_t object, ObjectKind kind, std::string_view name,
                          const std::source_location& site, std::uint64_t capacity) noexcept {
  const SiteIds ids = intern_site(site, false);
  name = cut(name);
  const std::uint64_t fiber = caller();
  const auto k = static_cast<std::uint8_t>(kind);
  append_big(Rec::object_create,
             uv_size(object) + uv_size(k) + uv_size(fiber) + uv_size(ids.site) + uv_size(capacity) +
                 str_size(name),
             [&](std::uint8_t* q) {
               q = put_uv(q, object);
               q = put_uv(q, k);
               q = put_uv(q, fiber);
               q = put_uv(q, ids.site);
               q = put_uv(q, capacity);
               return put_str(q, name);
             });
}

void record_object_destroy(std::uint64_t object) noexcept {
  append(Rec::object_destroy, object);
}

void record_lock(Rec type, std::uint64_t object, bool read,
                 const std::source_location* site) noexcept {
  if (site) {
    const SiteIds ids = intern_site(*site, true);
    append(type, caller(), object, read ? 1u : 0u, ids.site, ids.stack);
  } else {
    append(type, caller(), object, read ? 1u : 0u);
  }
}

void record_chan(Rec type, std::uint64_t object, std::int64_t a, bool has_a) noexcept {
  if (has_a) {
    append(type, caller(), object, static_cast<std::uint64_t>(a));
  } else {
    append(type, caller(), object);
  }
}

void record_chan_op(Rec type, std::uint64_t fiber, std::uint64_t object, std::uint64_t ok,
                    Waiter* partner) noexcept {
  TraceTls& t = tls_trace;
  std::uint64_t woke = 0, done = 0;
  if (partner) {
    if (partner->aux == 0) {  // parked in a plain send/receive: its completion is this
      if (partner->fiber) {
        woke = partner->fiber->id;
        done = 1;
      }
    } else if (const Waiter* parked =  // a select case: ChanImpl::notify wakes its select
               reinterpret_cast<const Waiter*>(static_cast<std::uintptr_t>(partner->aux));
               parked->fiber) {
      woke = parked->fiber->id;
    }
  }
  // A plain thread's record always reads the clock: it may just have
  // blocked. A fiber's may share the thread's last reading.
  const bool shared = fiber != 0 && take_shared_reading(t);
  if (append_chan_op(t, shared, type, fiber, object, ok, woke, done) && woke) {
    t.woke_fiber = woke;
    if (done) partner->traced_handoff = true;
  }
}

void record_chan_resumed(Rec type, std::uint64_t object, std::uint64_t ok) noexcept {
  TraceTls& t = tls_trace;
  const bool same_instant = t.pos != nullptr && t.pos == t.run_end;
  if (type == Rec::chan_recv) {
    if (same_instant) {
      append_same_instant(type, caller(), object, ok);
    } else {
      append(type, caller(), object, ok);
    }
  } else if (same_instant) {
    append_same_instant(type, caller(), object);
  } else {
    append(type, caller(), object);
  }
}

void record_select_done(std::uint64_t object, int index, bool is_send) noexcept {
  append(Rec::select_done, caller(), object, static_cast<std::uint64_t>(index < 0 ? 0 : index),
         is_send ? 1u : 0u);
}

void record_wg_add(std::uint64_t object, std::int64_t delta, std::int64_t counter) noexcept {
  append(Rec::wg_add, caller(), object, zigzag(delta), zigzag(counter));
}

void record_cond_signal(std::uint64_t object, bool broadcast) noexcept {
  append(Rec::cond_signal, caller(), object, broadcast ? 1u : 0u);
}

void record_syscall_enter(const char* name, int fd, const std::source_location& site) noexcept {
  const SiteIds ids = intern_site(site, false);
  const int peer = fd >= 0 ? FdTable::instance().peer(fd) : -1;
  const std::uint64_t fiber = caller();
  const std::string_view n = cut(name ? name : "");
  append_big(Rec::syscall_enter,
             uv_size(fiber) + uv_size(zigzag(fd)) + uv_size(zigzag(peer)) + uv_size(ids.site) +
                 str_size(n),
             [&](std::uint8_t* q) {
               q = put_uv(q, fiber);
               q = put_sv(q, fd);
               q = put_sv(q, peer);
               q = put_uv(q, ids.site);
               return put_str(q, n);
             });
}

void record_syscall_exit(std::int64_t result, int err) noexcept {
  append(Rec::syscall_exit, caller(), zigzag(result),
         static_cast<std::uint64_t>(err < 0 ? 0 : err));
}

void record_fd_pair(int fd0, int fd1) noexcept {
  append(Rec::fd_pair, caller(), zigzag(fd0), zigzag(fd1));
}

void record_misuse(std::string_view message, const std::source_location& site) noexcept {
  const SiteIds ids = intern_site(site, false);
  message = cut(message);
  const std::uint64_t fiber = caller();
  append_big(Rec::misuse, uv_size(fiber) + uv_size(ids.site) + str_size(message),
             [&](std::uint8_t* q) {
               q = put_uv(q, fiber);
               q = put_uv(q, ids.site);
               return put_str(q, message);
             });
}

void record_finding(std::string_view kind, std::string_view pattern,
                    const std::vector<std::uint64_t>& fibers) noexcept {
  kind = cut(kind);
  pattern = cut(pattern);
  const std::size_t n = std::min(fibers.size(), kMaxFindingFibers);
  std::size_t rest = str_size(kind) + str_size(pattern) + uv_size(n);
  for (std::size_t i = 0; i < n; ++i) rest += uv_size(fibers[i]);
  append_big(Rec::finding, rest, [&](std::uint8_t* q) {
    q = put_str(q, kind);
    q = put_str(q, pattern);
    q = put_uv(q, n);
    for (std::size_t i = 0; i < n; ++i) q = put_uv(q, fibers[i]);
    return q;
  });
}

}  // namespace tether::detail::trace
