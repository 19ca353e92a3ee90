// Stack capture: the worker-thread table, the stop signal, and unwinding of
// running fibers (from signal contexts) and parked ones (from their saved
// Boost.Context registers). See stack_capture.h for the protocol.
#include "stack_capture.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "fcontext_layout.h"
#include "futex.h"
#include "fiber_impl.h"
#include "fiber_registry.h"
#include "locker.h"
#include "object_registry.h"
#include "runtime_state.h"
#include "scheduler.h"
#include "sync_object.h"

namespace tether::detail {

const char* to_string(StackStatus s) noexcept {
  switch (s) {
    case StackStatus::ok: return "ok";
    case StackStatus::not_started: return "not started";
    case StackStatus::in_transition: return "switching contexts while sampled";
    case StackStatus::no_answer: return "a thread did not stop for the dump";
    case StackStatus::layout_unknown: return "saved-register layout unknown";
    case StackStatus::finished: return "finished";
  }
  return "?";
}

std::vector<std::uintptr_t> RawStack::pcs(std::size_t* elided_after, std::size_t* elided) const {
  std::vector<std::uintptr_t> v;
  const std::uint32_t n_inner = std::min(total, kInner);
  v.assign(inner, inner + n_inner);
  *elided_after = n_inner;
  *elided = 0;
  if (total > kInner) {
    const std::uint32_t n_outer = std::min(total - kInner, kOuter);
    *elided = total - kInner - n_outer;
    // The ring holds frames kInner.. in order modulo kOuter; the oldest kept
    // one is at (total - kInner - n_outer) % kOuter.
    for (std::uint32_t k = 0; k < n_outer; ++k) {
      v.push_back(outer[(total - kInner - n_outer + k) % kOuter]);
    }
  }
  return v;
}

namespace {

constexpr std::uint32_t kMaxSteps = 100000;  // a runaway unwind stops here
constexpr std::size_t kAltStackSize = 64 * 1024;
constexpr int kMaxThreads = 1024;


// ---- unwinding ----

// Steps `cur` to the end of the stack (or the fiber's bottom), recording PCs.
// lo/hi: the stack's bounds (0/0: unknown); frames whose SP leaves them end it.
void walk(unw_cursor_t* cur, std::uintptr_t lo, std::uintptr_t hi, RawStack* out) noexcept {
  for (;;) {
    unw_word_t ip = 0, sp = 0;
    if (unw_get_reg(cur, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    if (in_switch_code(ip) && out->total > 0) break;  // the fiber's bottom
    unw_get_reg(cur, UNW_REG_SP, &sp);
    if (hi != 0 && (sp < lo || sp > hi)) break;
    out->push(ip);
    if (out->total >= kMaxSteps) break;
    if (unw_step(cur) <= 0) break;
  }
}

void stack_bounds(const Fiber* f, std::uintptr_t* lo, std::uintptr_t* hi) noexcept {
  *lo = reinterpret_cast<std::uintptr_t>(f->stack.base) - Stack::guard_size();
  *hi = reinterpret_cast<std::uintptr_t>(f->stack.top());
}

// A running fiber (or a plain thread when f is null), from a signal context.
void unwind_signal_context(ucontext_t* uc, const Fiber* f, RawStack* out) noexcept {
  out->clear();
  std::uintptr_t lo = 0, hi = 0;
  if (f) stack_bounds(f, &lo, &hi);
  unw_cursor_t cur;
  if (unw_init_local2(&cur, reinterpret_cast<unw_context_t*>(uc), UNW_INIT_SIGNAL_FRAME) != 0) {
    return;
  }
  out->first_is_exact = true;
  walk(&cur, lo, hi, out);
}

// A parked fiber, from its saved context. The fiber must not be resumable.
void unwind_parked(const Fiber* f, RawStack* out) noexcept {
  out->clear();
  if (!fcontext_layout_known()) {
    out->status = StackStatus::layout_unknown;
    return;
  }
  std::uintptr_t lo, hi;
  stack_bounds(f, &lo, &hi);
  const auto block = reinterpret_cast<std::uintptr_t>(f->ctx);
  if (block < lo || block + saved_block_size() > hi) {
    out->status = StackStatus::in_transition;
    return;
  }
  if (in_make_fcontext(saved_pc(block))) {
    out->status = StackStatus::not_started;
    return;
  }
  unw_context_t uc;
  context_from_saved_block(block, &uc);
  unw_cursor_t cur;
  if (unw_init_local(&cur, &uc) != 0) return;
  walk(&cur, lo, hi, out);
}

// ---- clock ----

std::int64_t mono_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// ---- the worker-thread table ----

// A request is a token: (capture generation << 10) | attempt. The handler
// answers with (token << 2) | kind; tokens never repeat, so a late handler
// of an earlier capture can never be mistaken for an answer to this one.
enum AnswerKind : std::uint64_t { kHeld = 1, kRetry = 2 };
constexpr int kAttemptBits = 10;

struct Slot {
  bool used = false;  // guarded by g_table_mu
  pthread_t thread{};
  Worker* worker = nullptr;
  void* altstack = nullptr;
  stack_t old_altstack{};
  std::atomic<std::uint64_t> request{0};       // the token asked for
  std::atomic<std::uint64_t> answer{0};        // (token << 2) | AnswerKind
  std::atomic<std::uint32_t> answer_seq{0};    // futex word: bumped on each answer
  std::atomic<std::uint32_t> release{0};       // futex word: the generation released
  std::atomic<bool> crashed{false};            // held by the crash handler
  std::uint64_t last_token = 0;                // the handler's own: tokens done
  // Filled by the thread itself in its handler.
  Fiber* fiber = nullptr;
  bool idle = false;
  bool in_syscall = false;
  RawStack stack;
};

Slot g_slots[kMaxThreads];
int g_nslots = 0;  // high-water mark, guarded by g_table_mu
std::mutex g_table_mu;
std::mutex g_capture_mu;
std::uint32_t g_generation = 0;  // guarded by g_capture_mu
thread_local int tls_slot = -1;
int g_stop_signal = 0;

bool fiber_runs_here(const Fiber* f, std::uintptr_t sp) noexcept {
  std::uintptr_t lo, hi;
  stack_bounds(f, &lo, &hi);
  return sp >= lo && sp < hi;
}

// The sample a handler takes of its own thread; false: retry later.
bool sample_worker(Slot& s, ucontext_t* uc) noexcept {
  Worker* w = s.worker;
  Fiber* f = w->current;
  const auto pc = static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  const auto sp = static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  // Mid-switch: the registers belong to neither side, or a fiber's context
  // is not saved yet (Worker::pending is cleared only once it is).
  if (in_switch_code(pc) || w->pending.kind != AfterSwitch::none || w->pending.prev != nullptr) {
    return false;
  }
  if (f && !fiber_runs_here(f, sp)) return false;  // about to switch to f
  s.fiber = f;
  s.idle = w->idle.load(std::memory_order_relaxed);
  s.in_syscall = w->in_syscall.load(std::memory_order_relaxed);
  s.stack.clear();
  if (f) unwind_signal_context(uc, f, &s.stack);
  return true;
}

void stop_handler(int, siginfo_t*, void* ucv) {
  const int saved_errno = errno;
  const int i = tls_slot;
  if (i >= 0) {
    Slot& s = g_slots[i];
    const std::uint64_t token = s.request.load(std::memory_order_acquire);
    if (token != 0 && token != s.last_token && !s.crashed.load(std::memory_order_relaxed)) {
      s.last_token = token;
      const auto gen = static_cast<std::uint32_t>(token >> kAttemptBits);
      const bool ok = sample_worker(s, static_cast<ucontext_t*>(ucv));
      s.answer.store(token << 2 | (ok ? kHeld : kRetry), std::memory_order_release);
      s.answer_seq.fetch_add(1, std::memory_order_release);
      futex_wake_all(&s.answer_seq);
      if (ok) {
        // Held until the capturer releases this generation (or gives up on it).
        const std::int64_t give_up = mono_ns() + 30'000'000'000;
        for (;;) {
          const std::uint32_t r = s.release.load(std::memory_order_acquire);
          if (r == gen || mono_ns() > give_up) break;
          futex_wait(&s.release, r, 100'000'000);
        }
      }
    }
  }
  errno = saved_errno;
}

std::once_flag g_init_once;

}  // namespace


void init_stack_capture() {
  std::call_once(g_init_once, [] {
    // Per-thread caches need no lock; the global cache's lock blocks all
    // signals around every step (two sigprocmask calls: 15% of a dump).
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    init_fcontext_layout();
    g_stop_signal = SIGRTMIN + 6;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = stop_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(g_stop_signal, &sa, nullptr);
  });
}

void register_worker_thread(Worker* w) noexcept {
  std::lock_guard lk(g_table_mu);
  int i = 0;
  while (i < kMaxThreads && g_slots[i].used) ++i;
  if (i == kMaxThreads) return;  // not dumpable, but runs
  Slot& s = g_slots[i];
  s.used = true;
  s.thread = pthread_self();
  s.worker = w;
  s.crashed.store(false, std::memory_order_relaxed);
  s.altstack = nullptr;
  // A stack for the crash handlers: a fiber that overflowed has none left.
  // Keep a sanitizer's (or the program's) own if it is big enough.
  stack_t old{};
  if (sigaltstack(nullptr, &old) == 0 &&
      ((old.ss_flags & SS_DISABLE) || old.ss_size < kAltStackSize)) {
    void* mem = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (mem != MAP_FAILED) {
      stack_t ss{};
      ss.ss_sp = mem;
      ss.ss_size = kAltStackSize;
      if (sigaltstack(&ss, nullptr) == 0) {
        s.altstack = mem;
        s.old_altstack = old;
      } else {
        munmap(mem, kAltStackSize);
      }
    }
  }
  g_nslots = std::max(g_nslots, i + 1);
  tls_slot = i;
}

void unregister_worker_thread() noexcept {
  const int i = tls_slot;
  if (i < 0) return;
  std::lock_guard lk(g_table_mu);
  Slot& s = g_slots[i];
  if (s.altstack) {
    stack_t old = s.old_altstack;
    if (!(old.ss_flags & SS_DISABLE) && old.ss_sp) {
      old.ss_flags = 0;
    } else {
      old = stack_t{};
      old.ss_flags = SS_DISABLE;
    }
    sigaltstack(&old, nullptr);
    munmap(s.altstack, kAltStackSize);
    s.altstack = nullptr;
  }
  s.used = false;
  s.worker = nullptr;
  tls_slot = -1;
}

void capture_current_stack(RawStack* out) noexcept {
  out->clear();
  std::uintptr_t lo = 0, hi = 0;
  if (Fiber* f = current_fiber()) stack_bounds(f, &lo, &hi);
  unw_context_t uc;
  if (unw_getcontext(&uc) != 0) return;
  unw_cursor_t cur;
  if (unw_init_local(&cur, &uc) != 0) return;
  if (unw_step(&cur) <= 0) return;  // skip this function itself
  walk(&cur, lo, hi, out);
}

void sample_context(ucontext_t* uc, RawStack* out) noexcept { unwind_signal_context(uc, nullptr, out); }

bool hold_crashed_thread(ucontext_t* uc, const void* fault_addr, std::uint64_t* fiber_id,
                         std::uint64_t* overflow_fiber, std::size_t* stack_size) noexcept {
  *fiber_id = 0;
  *overflow_fiber = 0;
  *stack_size = 0;
  const int i = tls_slot;
  if (i < 0) return false;
  Slot& s = g_slots[i];
  Worker* w = s.worker;
  Fiber* f = w ? w->current : nullptr;
  const auto sp = static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  s.stack.clear();
  s.fiber = nullptr;
  if (f && fiber_runs_here(f, sp)) {
    s.fiber = f;
    *fiber_id = f->id;
    const auto a = reinterpret_cast<std::uintptr_t>(fault_addr);
    const auto base = reinterpret_cast<std::uintptr_t>(f->stack.base);
    if (a < base && a >= base - Stack::guard_size()) {
      *overflow_fiber = f->id;
      *stack_size = f->stack.size;
    }
    unwind_signal_context(uc, f, &s.stack);
  }
  s.idle = false;
  s.in_syscall = w && w->in_syscall.load(std::memory_order_relaxed);
  s.crashed.store(true, std::memory_order_release);
  return true;
}

void release_crashed_thread() noexcept {
  const int i = tls_slot;
  if (i >= 0) g_slots[i].crashed.store(false, std::memory_order_release);
}

// ---- the capture ----

namespace {

std::string object_text(ObjectKind kind, std::uint64_t id, const std::string& name) {
  if (kind == ObjectKind::locker) return "thread \"" + name + "\"";
  std::string s(to_string(kind));
  s += ' ';
  s += std::to_string(id);
  if (!name.empty()) s += " \"" + name + "\"";
  return s;
}

// The object a wait reason refers to, by kind.
std::string describe_object(const FiberSnapshot& fs, const char* raw_name,
                            const std::unordered_map<std::uint64_t, std::string>& objects) {
  switch (fs.reason) {
    case WaitReason::join: return "fiber " + std::to_string(fs.object_id);
    case WaitReason::syscall:
    case WaitReason::running:
    case WaitReason::runnable:
    case WaitReason::sleep:
    case WaitReason::dead:
      return {};
    default: break;
  }
  if (fs.object_id == 0) return {};
  auto it = objects.find(fs.object_id);
  if (it != objects.end() && !it->second.empty()) return it->second;
  std::string s = "object " + std::to_string(fs.object_id);
  if (raw_name && *raw_name) s += std::string(" \"") + raw_name + "\"";
  return s;
}

}  // namespace

Capture capture_fibers(const std::vector<std::uint64_t>& only_ids) {
  Capture cap;
  init_stack_capture();
  std::lock_guard capture_lock(g_capture_mu);
  Runtime* rt = runtime();
  if (!rt) return cap;
  const std::uint64_t main_id = rt->main_fiber_id;
  const std::uint32_t gen = ++g_generation;

  struct Entry {
    Fiber* f;
    int slot;  // the thread running it, or -1
  };
  std::vector<Entry> fibers;
  std::vector<int> slots;
  std::vector<bool> answered;
  std::vector<Fiber*> slot_fiber;

  FiberRegistry::instance().with_locked([&](Fiber* head) {
    // 1. Everything we need is allocated before any thread stops.
    for (Fiber* f = head; f; f = f->reg_next) {
      if (!only_ids.empty() &&
          std::find(only_ids.begin(), only_ids.end(), f->id) == only_ids.end()) {
        continue;
      }
      fibers.push_back({f, -1});
    }
    cap.fibers.resize(fibers.size());  // the stacks are written in place
    std::lock_guard table_lock(g_table_mu);
    for (int i = 0; i < g_nslots; ++i) {
      if (g_slots[i].used) slots.push_back(i);
    }
    answered.assign(slots.size(), false);
    cap.threads.resize(slots.size());
    slot_fiber.assign(slots.size(), nullptr);
    const int self = tls_slot;

    // 2. Stop every other worker thread.
    std::vector<bool> requested(slots.size(), false);
    std::vector<std::uint64_t> token(slots.size(), 0);
    auto request = [&](std::size_t k, std::uint64_t attempt) {
      Slot& s = g_slots[slots[k]];
      token[k] = std::uint64_t{gen} << kAttemptBits | attempt;
      s.request.store(token[k], std::memory_order_release);
      requested[k] = pthread_kill(s.thread, g_stop_signal) == 0;
    };
    for (std::size_t k = 0; k < slots.size(); ++k) {
      Slot& s = g_slots[slots[k]];
      if (slots[k] == self) continue;
      if (s.crashed.load(std::memory_order_acquire)) {
        answered[k] = true;
        continue;
      }
      request(k, 0);
    }
    const std::int64_t deadline = mono_ns() + 3'000'000'000;
    for (std::size_t k = 0; k < slots.size(); ++k) {
      if (slots[k] == self || answered[k] || !requested[k]) continue;
      Slot& s = g_slots[slots[k]];
      std::uint64_t attempt = 0;
      while (mono_ns() < deadline) {
        const std::uint32_t seq = s.answer_seq.load(std::memory_order_acquire);
        const std::uint64_t a = s.answer.load(std::memory_order_acquire);
        if (s.crashed.load(std::memory_order_acquire) || a == (token[k] << 2 | kHeld)) {
          answered[k] = true;
          break;
        }
        if (a == (token[k] << 2 | kRetry)) {
          // Caught mid-switch: let it finish the switch and ask again.
          if (++attempt >= (1u << kAttemptBits)) break;
          sched_yield();
          request(k, attempt);
          continue;
        }
        futex_wait(&s.answer_seq, seq, 1'000'000);
      }
    }
    bool all_answered = true;
    for (std::size_t k = 0; k < slots.size(); ++k) {
      if (slots[k] == self) continue;
      all_answered = all_answered && answered[k];
      if (answered[k]) slot_fiber[k] = g_slots[slots[k]].fiber;
    }

    // 3. Unwind: running fibers from their samples, parked ones from their
    // saved registers (nothing can resume them now).
    Fiber* self_fiber = self >= 0 ? g_slots[self].worker->current : nullptr;
    for (std::size_t j = 0; j < fibers.size(); ++j) {
      Fiber* f = fibers[j].f;
      RawStack& out = cap.fibers[j].stack;
      out.clear();
      if (f == self_fiber) {
        unw_context_t uc;
        unw_getcontext(&uc);
        unw_cursor_t cur;
        if (unw_init_local(&cur, &uc) == 0) {
          std::uintptr_t lo, hi;
          stack_bounds(f, &lo, &hi);
          walk(&cur, lo, hi, &out);
        }
        fibers[j].slot = self;
        continue;
      }
      bool running = false;
      for (std::size_t k = 0; k < slots.size(); ++k) {
        if (slot_fiber[k] == f) {
          out = g_slots[slots[k]].stack;
          fibers[j].slot = slots[k];
          running = true;
          break;
        }
      }
      if (running) continue;
      if (f->done.load(std::memory_order_acquire)) {
        out.status = StackStatus::finished;
      } else if (!all_answered) {
        out.status = StackStatus::no_answer;
      } else {
        unwind_parked(f, &out);
      }
    }

    // Threads' states, while they are still held (no allocation here: a
    // stopped thread may hold a malloc lock; the names are copied later).
    for (std::size_t k = 0; k < slots.size(); ++k) {
      Slot& s = g_slots[slots[k]];
      ThreadSnapshot& t = cap.threads[k];
      t.tid = s.worker->tid.load(std::memory_order_relaxed);
      t.is_pool = s.worker->kind == Worker::pool;
      if (slots[k] == self) {
        t.running_fiber = self_fiber ? self_fiber->id : 0;
      } else if (answered[k]) {
        t.running_fiber = s.fiber ? s.fiber->id : 0;
        t.idle = s.idle;
        t.in_syscall = s.in_syscall;
        t.crashed = s.crashed.load(std::memory_order_relaxed);
      } else {
        t.answered = false;
      }
    }

    // 4. Release everyone.
    for (std::size_t k = 0; k < slots.size(); ++k) {
      Slot& s = g_slots[slots[k]];
      if (slots[k] == self || token[k] == 0) continue;
      s.release.store(gen, std::memory_order_release);
      futex_wake_all(&s.release);
    }

    for (std::size_t k = 0; k < slots.size(); ++k) cap.threads[k].name = g_slots[slots[k]].worker->name;

    // Wait states (seqlocked: read once their writers can run again).
    for (std::size_t j = 0; j < fibers.size(); ++j) {
      Fiber* f = fibers[j].f;
      FiberSnapshot& fs = cap.fibers[j];
      fs.id = f->id;
      fs.name = f->name;
      fs.parent = f->parent;
      fs.created_at = f->created_at;
      fs.is_main = f->id == main_id;
      const WaitStateCell::Value v = f->wait.read();
      fs.reason = v.reason;
      fs.since_ns = v.since_ns;
      fs.object_id = v.object_id;
      if (v.object_name && fs.reason != WaitReason::syscall) fs.object = v.object_name;
      if (fs.reason == WaitReason::syscall) {
        const char* sc = f->syscall_name.load(std::memory_order_relaxed);
        const int fd = f->syscall_fd.load(std::memory_order_relaxed);
        fs.syscall = sc ? sc : "?";
        fs.syscall += fd >= 0 ? "(fd " + std::to_string(fd) + ")" : "()";
      }
      if (Locker* l = f->locker.load(std::memory_order_acquire)) fs.locked_to = l->worker.name;
      if (fibers[j].slot >= 0 && g_slots[fibers[j].slot].worker) {
        fs.running_on = g_slots[fibers[j].slot].worker->name;
      }
    }
  });

  // Objects waited on, by kind and name.
  std::unordered_map<std::uint64_t, std::string> objects;
  for (const FiberSnapshot& fs : cap.fibers) {
    if (fs.object_id != 0) objects.emplace(fs.object_id, std::string());
  }
  if (!objects.empty()) {
    ObjectRegistry::instance().for_each([&](const SyncObject& o) {
      auto it = objects.find(o.object_id());
      if (it != objects.end()) it->second = object_text(o.kind(), o.object_id(), o.object_name());
    });
  }
  for (FiberSnapshot& fs : cap.fibers) {
    const std::string raw = fs.object;
    fs.object = describe_object(fs, raw.c_str(), objects);
  }
  std::sort(cap.fibers.begin(), cap.fibers.end(),
            [](const FiberSnapshot& a, const FiberSnapshot& b) { return a.id < b.id; });
  cap.taken_at_ns = coarse_now_ns();
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  cap.wall_time_ns = std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  return cap;
}

}  // namespace tether::detail
