// Per-thread trace buffers and the record append of the hot path (internal).
//
// Each OS thread appends records to its current TraceBuffer through the
// thread-local TraceTls: no lock, no system call, no allocation; one clock
// read and a few stores. `committed` (stored with release after every
// record) tells the writer thread how much of the buffer holds complete
// records, so it can write out a prefix while the owner keeps appending.
// A full buffer is handed to the writer (a lock-free push) and the thread
// takes an empty one; if there is none, it counts the events it drops and
// records a `lost` record once it has a buffer again (trace_events.cpp).
//
// Record layout (docs/trace-format.md): type byte, len varint, dt varint,
// fields. Small records (all fields varints) reserve one byte for len, which
// is filled in after the fields: kMaxSmallRecord keeps it below 128.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "trace_clock.h"
#include "trace_format.h"

namespace tether::detail::trace {

inline constexpr std::size_t kBufferSize = 64 * 1024;
// type + len + dt + up to 8 varint fields, rounded up; a small record's body
// stays below 128 bytes so its len fits one byte.
inline constexpr std::size_t kMaxSmallRecord = 2 + 10 * 9 + 4;
inline constexpr std::size_t kMaxSmallFields = 8;

struct ThreadTrace;

struct TraceBuffer {
  // Written by the owner thread.
  std::atomic<std::uint32_t> committed{0};  // bytes of complete records
  std::uint64_t base_ticks = 0;             // the first record's dt is relative to it
  std::uint32_t tseq = 0;                   // the owner's buffer number (0, 1, ...)
  ThreadTrace* owner = nullptr;
  // Set by the owner as it hands the buffer off (final then): how many
  // records it holds and the last one's ticks, so that the writer need not
  // walk the records to fill in block headers.
  std::uint32_t records = 0;
  std::uint64_t end_ticks = 0;
  // Written by the writer thread only.
  std::uint32_t flushed = 0;          // bytes already written to the file
  std::uint32_t flushed_records = 0;  // records among them
  std::uint64_t flushed_ticks = 0;    // ticks of the last record written
  TraceBuffer* next = nullptr;      // handoff queue / free list link
  alignas(64) std::uint8_t data[kBufferSize];
};

// A thread that recorded in the current session.
struct ThreadTrace {
  std::uint64_t thread_id = 0;
  std::atomic<TraceBuffer*> current{nullptr};  // what the owner appends to
  std::uint32_t next_tseq = 0;                 // owner: number of its next buffer
  std::uint32_t write_tseq = 0;                // writer: the buffer number due next
  ThreadTrace* next = nullptr;                 // the session's list (push-only)
};

struct SiteCacheEntry {
  const void* key = nullptr;
  std::uint32_t site = 0;
  std::uint32_t stack = 0;
};
inline constexpr std::size_t kSiteCacheSize = 256;

// What the hot path touches, per thread. Trivially destructible and
// constant-initialized, so access is a %fs-relative load with no guard.
struct TraceTls {
  std::uint8_t* pos = nullptr;
  std::uint8_t* end = nullptr;
  std::uint64_t last_ticks = 0;
  TraceBuffer* buf = nullptr;
  std::uint32_t records = 0;  // in buf
  std::uint32_t gen = 0;  // the session pos/end/buf belong to (0: none)
  bool dead = false;      // the thread is exiting: record nothing more
  ThreadTrace* thread = nullptr;
  std::uint64_t lost = 0;           // events dropped since the last `lost` record
  SiteCacheEntry* sites = nullptr;  // kSiteCacheSize entries, per session
  std::uint32_t sites_gen = 0;
  std::uint8_t* park_end = nullptr;  // where the thread's last park record ended
  std::uint64_t park_next = 0;       // the fiber that park named as `next` (0: none)
  // Where the last run record of a switch ended: a record the resumed fiber
  // writes as it returns from its park, with nothing recorded in between,
  // takes the switch's instant instead of reading the clock again.
  std::uint8_t* run_end = nullptr;
  // Where the last channel record naming a woken fiber ended, and that fiber:
  // the wake() right after it records no separate unpark.
  std::uint8_t* woke_end = nullptr;
  std::uint64_t woke_fiber = 0;
  // Shared readings (trace-format.md, "One instant per switch", case 3): a
  // fiber's park or channel record may take the thread's last reading
  // instead of reading the clock, share_left more times. Each reading
  // sets share_left from the gaps between readings (note_reading): it grows
  // while they stay short, and drops to 0 at the first long one.
  std::uint32_t share_left = 0;
  std::uint32_t share_cap = 0;    // share_left after each reading
  std::uint32_t short_gaps = 0;   // consecutive readings soon after the one before
};

extern constinit thread_local TraceTls tls_trace __attribute__((tls_model("initial-exec")));

// The current session's number; 0 while not tracing. The one flag the hooks test.
extern std::atomic<std::uint32_t> g_gen;

// Shared readings: a record that takes the thread's last reading is early by
// less than the gap to the thread's next reading; the writer keeps those
// gaps under kApproxNs. It starts sharing after kWarmReadings readings in a
// row came at most kShortNs after the one before, doubles the share (up to
// kMaxShare records per reading) while they stay that short, halves it after
// a gap between kShortNs and kApproxNs, and stops after a longer one.
// g_approx_ticks, g_short_ticks: the two in ticks (set with the clock, before
// a session starts recording).
inline constexpr std::uint64_t kApproxNs = 1000;
inline constexpr std::uint64_t kShortNs = 500;  // doubled, the next gap stays under kApproxNs
inline constexpr std::uint32_t kWarmReadings = 16;
inline constexpr std::uint32_t kMaxShare = 15;
extern std::uint64_t g_approx_ticks;
extern std::uint64_t g_short_ticks;

// Acquire (a plain load on x86): what start_session() set up, the clock
// choice above all, is visible to a thread that sees the session's number.
inline bool tracing() noexcept {
  return __builtin_expect(g_gen.load(std::memory_order_acquire) != 0, 0);
}

// Slow path: registers the thread for the current session, or hands off a
// full buffer and takes a fresh one. False: record nothing (not tracing, or
// no buffer free: the event is counted as lost).
bool refill(TraceTls& t, std::size_t need) noexcept;

inline std::uint64_t next_ticks(TraceTls& t) noexcept {
  const std::uint64_t now = ticks();
  return now < t.last_ticks ? t.last_ticks : now;  // never backwards within a thread
}

// A record reads the clock at `now`: the gap since the thread's last reading
// sets how many of the next records may share this one.
inline void note_reading(TraceTls& t, std::uint64_t now) noexcept {
  const std::uint64_t gap = now - t.last_ticks;
  if (gap <= g_short_ticks) [[likely]] {
    if (t.short_gaps < kWarmReadings) {
      ++t.short_gaps;
    } else {
      t.share_cap = t.share_cap >= kMaxShare / 2 ? kMaxShare : 2 * t.share_cap + 1;
    }
  } else if (gap <= g_approx_ticks) {
    t.share_cap /= 2;
  } else {
    t.short_gaps = 0;
    t.share_cap = 0;
  }
  t.share_left = t.share_cap;
}

// A clock reading for the record about to be appended (next_ticks()),
// noted for shared readings.
inline std::uint64_t read_clock(TraceTls& t) noexcept {
  const std::uint64_t now = next_ticks(t);
  note_reading(t, now);
  return now;
}

// A fiber's park or channel record: true if it may take the last reading.
inline bool take_shared_reading(TraceTls& t) noexcept {
  if (t.share_left == 0 || t.pos == nullptr) return false;
  --t.share_left;
  return true;
}

inline void commit(TraceTls& t, std::uint8_t* q, std::uint64_t now) noexcept {
  t.last_ticks = now;
  t.pos = q;
  ++t.records;
  t.buf->committed.store(static_cast<std::uint32_t>(q - t.buf->data), std::memory_order_release);
}

// Appends a record whose fields are all unsigned varints (signed ones go
// through zigzag() first).
// append_at: with a clock reading the caller took earlier (ticks()), so the
// clock's latency overlaps the caller's own work (the TSC read is the
// costliest part of a record).
template <class... V>
inline void append_at(std::uint64_t now, Rec type, V... fields) noexcept {
  static_assert(sizeof...(V) <= kMaxSmallFields);
  TraceTls& t = tls_trace;
  if (t.gen != g_gen.load(std::memory_order_acquire) ||
      static_cast<std::size_t>(t.end - t.pos) < kMaxSmallRecord) [[unlikely]] {
    if (!refill(t, kMaxSmallRecord)) return;
  }
  if (now < t.last_ticks) now = t.last_ticks;  // never backwards within a thread
  note_reading(t, now);
  std::uint8_t* p = t.pos;
  p[0] = static_cast<std::uint8_t>(type);
  std::uint8_t* body = p + 2;
  std::uint8_t* q = put_uv(body, now - t.last_ticks);
  ((q = put_uv(q, static_cast<std::uint64_t>(fields))), ...);
  p[1] = static_cast<std::uint8_t>(q - body);
  commit(t, q, now);
}

template <class... V>
inline void append(Rec type, V... fields) noexcept {
  append_at(ticks(), type, fields...);
}

// As append(), at the instant of the thread's last record (dt 0, no clock
// read): for records that belong to the same instant as the one before them.
template <class... V>
inline void append_same_instant(Rec type, V... fields) noexcept {
  static_assert(sizeof...(V) <= kMaxSmallFields);
  TraceTls& t = tls_trace;
  if (t.gen != g_gen.load(std::memory_order_acquire) ||
      static_cast<std::size_t>(t.end - t.pos) < kMaxSmallRecord) [[unlikely]] {
    append(type, fields...);  // a new buffer: its base is the last instant anyway
    return;
  }
  std::uint8_t* p = t.pos;
  p[0] = static_cast<std::uint8_t>(type);
  std::uint8_t* body = p + 2;
  body[0] = 0;  // dt
  std::uint8_t* q = body + 1;
  ((q = put_uv(q, static_cast<std::uint64_t>(fields))), ...);
  p[1] = static_cast<std::uint8_t>(q - body);
  commit(t, q, t.last_ticks);
}

// Appends a record of any size: `rest` bytes of fields after dt, written by
// put(q) -> end. rest must be below kBufferSize / 2 (encoders cut strings).
template <class Put>
inline void append_big(Rec type, std::size_t rest, Put&& put) noexcept {
  TraceTls& t = tls_trace;
  const std::size_t need = 1 + 10 + 10 + rest;
  if (t.gen != g_gen.load(std::memory_order_acquire) ||
      static_cast<std::size_t>(t.end - t.pos) < need) {
    if (!refill(t, need)) return;
  }
  const std::uint64_t now = read_clock(t);
  const std::uint64_t dt = now - t.last_ticks;
  std::uint8_t* q = t.pos;
  *q++ = static_cast<std::uint8_t>(type);
  q = put_uv(q, uv_size(dt) + rest);
  q = put_uv(q, dt);
  q = put(q);
  commit(t, q, now);
}

}  // namespace tether::detail::trace
