#include "trace_writer.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string_view>
#include <thread>
#include <vector>

#include "futex.h"
#include "spin_lock.h"
#include "symbolizer.h"
#include "trace_crc32c.h"
#include "trace_sites.h"
#include "trace_stack_trim.h"

namespace tether::detail::trace {

constinit thread_local TraceTls tls_trace __attribute__((tls_model("initial-exec")));
std::atomic<std::uint32_t> g_gen{0};
std::uint64_t g_approx_ticks = kApproxNs;
std::uint64_t g_short_ticks = kShortNs;

namespace {

constexpr std::size_t kInitialBuffers = 16;
constexpr std::size_t kMaxBuffers = 512;  // 32 MiB: beyond that, events are dropped (and counted)
constexpr std::int64_t kPeriodNs = 100'000'000;
// A hand-off wakes the writer only every kKickEvery buffers: the wake-up is
// a system call (a few microseconds on a virtual machine), a buffer holds
// a few thousand records, and the periodic pass writes any buffer left
// waiting within kPeriodNs anyway.
constexpr std::uint32_t kKickEvery = 4;
constexpr std::size_t kMetaBlock = 60 * 1024;
std::atomic<bool> g_paused{false};
std::atomic<std::size_t> g_max_buffers{kMaxBuffers};


std::int64_t mono_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Session {
  std::mutex control;  // start / stop / flush_session
  bool active = false;
  int fd = -1;
  std::string path;
  std::thread writer;
  std::atomic<int> writer_tid{0};
  std::uint32_t last_gen = 0;

  std::atomic<TraceBuffer*> full{nullptr};  // handed-off buffers, newest first
  std::atomic<std::uint32_t> handed{0};      // hand-offs so far (see kKickEvery)
  SpinLock free_lock;
  TraceBuffer* free_list = nullptr;
  std::size_t nbuffers = 0;
  std::atomic<ThreadTrace*> threads{nullptr};
  // Earlier sessions' threads: kept (a thread may still hold a pointer to
  // its old entry for an instant), never walked again.
  std::vector<ThreadTrace*> retired;

  std::atomic<std::uint32_t> wake{0};
  std::atomic<std::uint32_t> flush_req{0};
  std::atomic<std::uint32_t> flush_done{0};
  std::atomic<bool> crash{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> running{false};  // the writer thread runs (for flush_for_crash)

  // The writer thread's own.
  bool failed = false;
  std::uint32_t seq = 0;
  std::uint64_t offset = 0;
  std::uint64_t end_thread = 0, end_base = 0;
  std::int64_t end_status = 0;
  std::vector<PendingSite> sites;
  std::vector<PendingStack> stacks;
  std::vector<std::uint8_t> meta;
};

Session& S() {
  static Session* s = new Session;  // threads may record until the process ends
  return *s;
}

}  // namespace

void release_buffer(TraceBuffer* b) noexcept {
  Session& s = S();
  s.free_lock.lock();
  b->next = s.free_list;
  s.free_list = b;
  s.free_lock.unlock();
}

namespace {

void kick(Session& s) noexcept {
  s.wake.fetch_add(1, std::memory_order_release);
  futex_wake_all(&s.wake);
}

// ---- writing ----

// Stops tracing after a failed write: one message, the file cut back to its
// last complete block, the hooks off. The program goes on.
void fail(Session& s, int err) {
  s.failed = true;
  g_gen.store(0, std::memory_order_release);
  const bool cut = ::ftruncate(s.fd, static_cast<off_t>(s.offset)) == 0;
  std::fprintf(stderr, "tether: trace %s: write failed: %s; tracing stopped (%llu bytes%s kept)\n",
               s.path.c_str(), std::strerror(err), static_cast<unsigned long long>(s.offset),
               cut ? "" : ", file not cut back");
}

bool write_fully(Session& s, iovec* iov, int n) {
  std::size_t done = 0;
  while (n > 0) {
    const ssize_t r = ::writev(s.fd, iov, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(s, errno);
      return false;
    }
    if (r == 0) {
      fail(s, ENOSPC);
      return false;
    }
    std::size_t left = static_cast<std::size_t>(r);
    done += left;
    while (n > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --n;
    }
    if (n > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  s.offset += done;
  return true;
}

void write_block(Session& s, std::uint64_t thread, std::uint64_t base_ticks,
                 const std::uint8_t* payload, std::size_t size, std::uint32_t records) {
  if (s.failed || size == 0) return;
  std::uint8_t h[kBlockHeaderSize];
  std::memcpy(h, kBlockMagic, 4);
  put_u32(h + 4, static_cast<std::uint32_t>(size));
  put_u64(h + 8, thread);
  put_u64(h + 16, base_ticks);
  put_u32(h + 24, s.seq);
  put_u32(h + 28, records);
  put_u32(h + 32, crc32c_extend(crc32c(h, 32), payload, size));
  iovec iov[2] = {{h, kBlockHeaderSize}, {const_cast<std::uint8_t*>(payload), size}};
  if (write_fully(s, iov, 2)) ++s.seq;
}

// Writes b's records [b->flushed, upto) as one block. handed: b came from
// the handoff queue, its owner is done with it and said how many records it
// holds (and upto is all of them); else the records are walked.
void write_span(Session& s, TraceBuffer* b, std::uint32_t upto, bool handed) {
  const std::uint32_t from = b->flushed;
  if (upto <= from) return;
  const std::uint64_t base = from == 0 ? b->base_ticks : b->flushed_ticks;
  std::uint64_t t = base;
  std::uint32_t n = 0;
  if (handed) {
    n = b->records - b->flushed_records;
    t = b->end_ticks;
  } else {
    const std::uint8_t* p = b->data + from;
    const std::uint8_t* end = b->data + upto;
    while (p < end) {  // our own records: only dt matters here
      std::uint64_t len = 0, dt = 0;
      const std::uint8_t* body = get_uv(p + 1, end, &len);
      if (!body || !get_uv(body, end, &dt)) break;
      t += dt;
      p = body + len;
      ++n;
    }
  }
  write_block(s, b->owner ? b->owner->thread_id : 0, base, b->data + from, upto - from, n);
  b->flushed = upto;
  b->flushed_records += n;
  b->flushed_ticks = t;
}

// Symbolized frames of one stack, the trace's own frames left out.
struct OutFrame {
  std::uintptr_t pc;
  int line;
  std::string_view file, function;
};

void encode_meta(Session& s, bool crash) {
  if (!take_pending(&s.sites, &s.stacks, /*only_if_free=*/crash)) return;
  if (s.sites.empty() && s.stacks.empty()) return;
  std::vector<std::uint8_t>& m = s.meta;
  m.clear();
  std::uint32_t records = 0;
  auto flush_if_big = [&] {
    if (m.size() >= kMetaBlock) {
      write_block(s, 0, ticks(), m.data(), m.size(), records);
      m.clear();
      records = 0;
    }
  };
  auto record = [&](Rec type, std::size_t rest, auto&& put) {
    const std::size_t at = m.size();
    m.resize(at + 1 + 10 + 1 + rest);
    std::uint8_t* q = m.data() + at;
    *q++ = static_cast<std::uint8_t>(type);
    q = put_uv(q, 1 + rest);  // dt (always 0: one byte) + fields
    *q++ = 0;
    q = put(q);
    m.resize(static_cast<std::size_t>(q - m.data()));
    ++records;
    flush_if_big();
  };
  for (const PendingSite& site : s.sites) {
    const std::string_view file = site.loc.file_name(), fn = site.loc.function_name();
    const std::size_t rest = uv_size(site.id) + uv_size(site.loc.line()) +
                             uv_size(site.loc.column()) + str_size(file) + str_size(fn);
    record(Rec::site, rest, [&](std::uint8_t* q) {
      q = put_uv(q, site.id);
      q = put_uv(q, site.loc.line());
      q = put_uv(q, site.loc.column());
      q = put_str(q, file);
      return put_str(q, fn);
    });
  }
  std::vector<OutFrame> frames;
  std::vector<const Frame*> symbolized;
  for (const PendingStack& st : s.stacks) {
    frames.clear();
    symbolized.clear();
    for (std::uintptr_t pc : st.pcs) {
      if (crash) {  // no symbolizing in a crashing process: its locks may be held
        frames.push_back({pc, 0, {}, {}});
        continue;
      }
      // (Pointers into the symbolizer's cache, which lives as long as the process.)
      for (const Frame& f : Symbolizer::instance().symbolize(pc, false)) symbolized.push_back(&f);
    }
    // The runtime's own frames (park, block...) out: the user's call innermost.
    std::size_t first = 0, last = 0;
    trim_runtime_frames(symbolized, &first, &last);
    for (std::size_t i = first; i < last; ++i) {
      const Frame& f = *symbolized[i];
      frames.push_back({f.pc, f.line, f.file,
                        f.function == "??" ? std::string_view() : std::string_view(f.function)});
    }
    if (frames.size() > 64) frames.resize(64);
    std::size_t rest = uv_size(st.id) + uv_size(frames.size());
    for (const OutFrame& f : frames) {
      rest += uv_size(f.pc) + uv_size(static_cast<std::uint64_t>(f.line)) + str_size(f.file) +
              str_size(f.function);
    }
    record(Rec::stack, rest, [&](std::uint8_t* q) {
      q = put_uv(q, st.id);
      q = put_uv(q, frames.size());
      for (const OutFrame& f : frames) {
        q = put_uv(q, f.pc);
        q = put_uv(q, static_cast<std::uint64_t>(f.line));
        q = put_str(q, f.file);
        q = put_str(q, f.function);
      }
      return q;
    });
  }
  if (!m.empty()) write_block(s, 0, ticks(), m.data(), m.size(), records);
  s.sites.clear();
  s.stacks.clear();
}

// One round: handed-off buffers in full, and (partials) what each thread
// recorded in its current buffer since the last round. Definitions are taken
// after the buffers, so each precedes its uses in the file.
void pass(Session& s, bool partials, bool crash) {
  TraceBuffer* list = s.full.exchange(nullptr, std::memory_order_acquire);
  TraceBuffer* fifo = nullptr;
  while (list) {
    TraceBuffer* n = list->next;
    list->next = fifo;
    fifo = list;
    list = n;
  }
  struct Snap {
    ThreadTrace* tt;
    TraceBuffer* b;
    std::uint32_t committed;
  };
  static thread_local std::vector<Snap> snaps;
  snaps.clear();
  if (partials) {
    for (ThreadTrace* tt = s.threads.load(std::memory_order_acquire); tt; tt = tt->next) {
      if (TraceBuffer* b = tt->current.load(std::memory_order_acquire)) {
        snaps.push_back({tt, b, b->committed.load(std::memory_order_acquire)});
      }
    }
  }
  if (!s.failed) encode_meta(s, crash);
  std::vector<TraceBuffer*> done;
  for (TraceBuffer* b = fifo; b;) {
    TraceBuffer* n = b->next;
    if (!s.failed) write_span(s, b, b->committed.load(std::memory_order_acquire), true);
    if (b->owner) b->owner->write_tseq = b->tseq + 1;
    done.push_back(b);
    b = n;
  }
  for (const Snap& sn : snaps) {
    // Only a thread's oldest unwritten buffer: its earlier ones come first.
    if (sn.b->owner == sn.tt && sn.b->tseq == sn.tt->write_tseq && !s.failed)
      write_span(s, sn.b, sn.committed, false);
  }
  for (TraceBuffer* b : done) release_buffer(b);
}

void write_end(Session& s) {
  if (s.failed) return;
  std::uint8_t rec[32];
  const std::uint64_t now = ticks();
  const std::uint64_t dt = now > s.end_base ? now - s.end_base : 0;
  std::uint8_t* q = rec;
  *q++ = static_cast<std::uint8_t>(Rec::end);
  q = put_uv(q, uv_size(dt) + uv_size(zigzag(s.end_status)));
  q = put_uv(q, dt);
  q = put_sv(q, s.end_status);
  write_block(s, s.end_thread, s.end_base, rec, static_cast<std::size_t>(q - rec), 1);
}

void writer_main(Session* sp) {
  Session& s = *sp;
  // Only fault signals here: process-directed signals go to the program's
  // threads, and SIGXFSZ (ulimit -f) turns into EFBIG instead of a kill.
  sigset_t set;
  sigfillset(&set);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigdelset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  pthread_setname_np(pthread_self(), "tether-trace");
  s.writer_tid.store(static_cast<int>(syscall(SYS_gettid)), std::memory_order_relaxed);
  std::int64_t next_round = mono_ns() + kPeriodNs;
  for (;;) {
    const std::uint32_t w = s.wake.load(std::memory_order_acquire);
    const std::uint32_t req = s.flush_req.load(std::memory_order_acquire);
    const bool stop = s.stopping.load(std::memory_order_acquire);
    const bool crash = s.crash.load(std::memory_order_acquire);
    const std::int64_t now = mono_ns();
    const bool due = now >= next_round;
    const bool flush = req != s.flush_done.load(std::memory_order_relaxed);
    if (g_paused.load(std::memory_order_relaxed) && !stop && !crash) {
      futex_wait(&s.wake, w, 1'000'000);
      continue;
    }
    pass(s, due || flush || stop, crash);
    if (due) next_round = now + kPeriodNs;
    if (flush) {
      s.flush_done.store(req, std::memory_order_release);
      futex_wake_all(&s.flush_done);
    }
    if (stop) {
      write_end(s);
      break;
    }
    std::int64_t left = next_round - mono_ns();
    if (left < 1'000'000) left = 1'000'000;
    futex_wait(&s.wake, w, left);
  }
  s.running.store(false, std::memory_order_release);
}

std::vector<std::uint8_t> file_header(const ClockInfo& c) {
  char exe[kMaxProgram];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe);
  if (n < 0) n = 0;
  const std::size_t size = 60 + static_cast<std::size_t>(n) + 4;
  std::vector<std::uint8_t> h(size, 0);
  std::memcpy(h.data(), kFileMagic, 8);
  put_u16(&h[8], kVersionMajor);
  put_u16(&h[10], kVersionMinor);
  put_u32(&h[12], static_cast<std::uint32_t>(size));
  put_u64(&h[16], c.start_ticks);
  put_u64(&h[24], c.num);
  put_u64(&h[32], c.den);
  put_u64(&h[40], static_cast<std::uint64_t>(c.start_wall_ns));
  put_u32(&h[48], static_cast<std::uint32_t>(::getpid()));
  put_u32(&h[52], c.tsc ? 1u : 0u);
  put_u32(&h[56], static_cast<std::uint32_t>(n));
  if (n > 0) std::memcpy(&h[60], exe, static_cast<std::size_t>(n));
  put_u32(&h[size - 4], crc32c(h.data(), size - 4));
  return h;
}

void at_exit_flush() {
  flush_before_exit();
}

}  // namespace

bool start_session(const std::string& path) {
  Session& s = S();
  std::lock_guard lk(s.control);
  if (s.active) {
    std::fprintf(stderr, "tether: trace %s: a trace is already being written; not tracing\n",
                 path.c_str());
    return false;
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "tether: trace %s: cannot create: %s; not tracing\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  s.fd = fd;
  s.path = path;
  s.failed = false;
  s.offset = 0;
  s.seq = 0;
  const ClockInfo clock = init_clock();
  g_approx_ticks = static_cast<std::uint64_t>(static_cast<unsigned __int128>(kApproxNs) *
                                              clock.den / clock.num);
  g_short_ticks = static_cast<std::uint64_t>(static_cast<unsigned __int128>(kShortNs) *
                                             clock.den / clock.num);
  std::vector<std::uint8_t> header = file_header(clock);
  iovec iov{header.data(), header.size()};
  if (!write_fully(s, &iov, 1)) {
    ::close(fd);
    s.fd = -1;
    return false;
  }
  reset_sites();
  // Buffers a previous session left handed-off are free again.
  for (TraceBuffer* b = s.full.exchange(nullptr); b;) {
    TraceBuffer* n = b->next;
    release_buffer(b);
    b = n;
  }
  for (ThreadTrace* tt = s.threads.exchange(nullptr); tt; tt = tt->next) s.retired.push_back(tt);
  while (s.nbuffers < kInitialBuffers) {
    auto* b = new (std::nothrow) TraceBuffer;
    if (!b) break;
    ++s.nbuffers;
    release_buffer(b);
  }
  s.stopping.store(false);
  s.crash.store(false);
  s.flush_req.store(0);
  s.flush_done.store(0);
  s.running.store(true);
  s.writer = std::thread(writer_main, &s);
  s.active = true;
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(at_exit_flush); });
  s.last_gen = s.last_gen + 1 == 0 ? 1 : s.last_gen + 1;
  g_gen.store(s.last_gen, std::memory_order_release);
  return true;
}

void stop_session(std::int64_t status) {
  Session& s = S();
  std::lock_guard lk(s.control);
  if (!s.active) return;
  TraceTls& t = tls_trace;
  const bool mine = t.gen == s.last_gen && t.thread;
  s.end_thread = mine ? t.thread->thread_id : 0;
  s.end_base = mine ? t.last_ticks : ticks();
  s.end_status = status;
  g_gen.store(0, std::memory_order_release);
  s.stopping.store(true, std::memory_order_release);
  kick(s);
  s.writer.join();
  ::close(s.fd);
  s.fd = -1;
  s.active = false;
}

namespace {
// Asks the writer for a round that writes everything, and waits for it up to
// max_wait_ms. Async-signal-safe (atomics and futexes only).
void request_flush(bool crash, int max_wait_ms) noexcept {
  Session& s = S();
  if (!s.running.load(std::memory_order_acquire)) return;
  if (static_cast<int>(syscall(SYS_gettid)) == s.writer_tid.load()) return;  // the writer itself
  if (crash) s.crash.store(true, std::memory_order_release);
  const std::uint32_t req = s.flush_req.fetch_add(1) + 1;
  kick(s);
  for (int waited = 0; waited < max_wait_ms; waited += 100) {
    const std::uint32_t d = s.flush_done.load(std::memory_order_acquire);
    if (static_cast<std::int32_t>(d - req) >= 0 || !s.running.load()) return;
    futex_wait(&s.flush_done, d, 100'000'000);
  }
}
}  // namespace

void flush_for_crash() noexcept {
  request_flush(true, 2000);
}
void flush_before_exit() noexcept {
  request_flush(false, 5000);
}

void flush_session() {
  Session& s = S();
  std::lock_guard lk(s.control);
  if (s.active) request_flush(false, INT_MAX);
}

std::string session_path() {
  Session& s = S();
  std::lock_guard lk(s.control);
  return s.active ? s.path : std::string();
}

ThreadTrace* register_thread(std::uint64_t thread_id) noexcept {
  Session& s = S();
  auto* tt = new (std::nothrow) ThreadTrace;
  if (!tt) return nullptr;
  tt->thread_id = thread_id;
  ThreadTrace* head = s.threads.load(std::memory_order_relaxed);
  do {
    tt->next = head;
  } while (!s.threads.compare_exchange_weak(head, tt, std::memory_order_release,
                                            std::memory_order_relaxed));
  return tt;
}

TraceBuffer* acquire_buffer() noexcept {
  Session& s = S();
  s.free_lock.lock();
  TraceBuffer* b = s.free_list;
  if (b) {
    s.free_list = b->next;
  } else if (s.nbuffers < g_max_buffers.load(std::memory_order_relaxed)) {
    ++s.nbuffers;  // allocated below, outside the lock
  } else {
    s.free_lock.unlock();
    return nullptr;
  }
  s.free_lock.unlock();
  if (!b) {
    b = new (std::nothrow) TraceBuffer;
    if (!b) return nullptr;
  }
  b->committed.store(0, std::memory_order_relaxed);
  b->flushed = 0;
  b->flushed_records = 0;
  b->flushed_ticks = 0;
  b->next = nullptr;
  return b;
}

void hand_off(TraceBuffer* b) noexcept {
  Session& s = S();
  TraceBuffer* head = s.full.load(std::memory_order_relaxed);
  do {
    b->next = head;
  } while (
      !s.full.compare_exchange_weak(head, b, std::memory_order_release, std::memory_order_relaxed));
  if ((s.handed.fetch_add(1, std::memory_order_relaxed) + 1) % kKickEvery == 0) kick(s);
}

void testing_suspend_recording(bool suspended) noexcept {
  Session& s = S();
  std::lock_guard lk(s.control);
  if (s.active && !s.stopping.load(std::memory_order_relaxed))
    g_gen.store(suspended ? 0 : s.last_gen, std::memory_order_release);
}

void testing_pause_writer(bool paused) noexcept {
  g_paused.store(paused);
}
void testing_set_max_buffers(std::size_t n) noexcept {
  g_max_buffers.store(n == 0 ? kMaxBuffers : n);
}

}  // namespace tether::detail::trace
