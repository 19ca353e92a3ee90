// Fiber dumps: the dump thread, the signal, crash and terminate handlers,
// and the dump that still comes out when memory has run out (fiber_dump.h).
#include "fiber_dump.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <mutex>
#include <thread>
#include <typeinfo>

#include "fiber_dump_reserve.h"
#include "fiber_impl.h"
#include "findings_report.h"
#include "futex.h"
#include "off_fiber.h"
#include "runtime_state.h"
#include "scheduler.h"
#include "sync_object.h"
#include "tether/dump.h"
#include "tether/errors.h"
#include "trace_writer.h"

namespace tether::detail {

std::string dump_text(std::string_view why) {
  return off_fiber([&] { return format_dump(capture_fibers(), why); });
}

// ---- the dump thread and the handlers ----

namespace {

std::once_flag g_install_once;
sem_t g_sem;
bool g_dump_thread_started = false;
std::atomic<int> g_user_requests{0};
std::atomic<int> g_quit_requests{0};
int g_dump_signal = 0;
thread_local bool tls_is_dumper = false;
struct sigaction g_old_actions[NSIG];

constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

// A dump another thread waits for: a crash, or std::terminate.
struct HandOff {
  std::atomic<int> requested{0};
  std::atomic<std::uint32_t> done{0};
};
HandOff g_terminate;

// The crash being reported (only the first crash of the process).
struct CrashState {
  std::atomic<int> owner{0};
  std::atomic<int> requested{0};
  std::atomic<std::uint32_t> done{0};
  bool on_worker = false;
  RawStack plain_stack;                   // the crashing thread's stack when it runs no fiber
  std::atomic<bool> fatal_dumped{false};  // the terminate handler already printed
} g_crash;

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Async-signal-safe building of the "fatal error" line.
struct LineBuf {
  char buf[512];
  std::size_t n = 0;
  LineBuf& operator<<(const char* s) {
    while (s && *s && n < sizeof buf - 1) buf[n++] = *s++;
    return *this;
  }
  LineBuf& num(unsigned long long v, int base = 10) {
    char tmp[32];
    int k = 0;
    do {
      tmp[k++] = "0123456789abcdef"[v % static_cast<unsigned>(base)];
      v /= static_cast<unsigned>(base);
    } while (v && k < 32);
    if (base == 16) *this << "0x";
    while (k > 0 && n < sizeof buf - 1) buf[n++] = tmp[--k];
    return *this;
  }
};

// Waits (at most ~15 s) for the dump thread to finish a handed-over dump.
void wait_done(std::atomic<std::uint32_t>* done) noexcept {
  while (done->load(std::memory_order_acquire) == 0) {
    if (futex_wait(done, 0, 15'000'000'000) != 0 && errno == ETIMEDOUT) break;
  }
}

const char* signal_text(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV: segmentation violation";
    case SIGBUS:
      return "SIGBUS: bus error";
    case SIGFPE:
      return "SIGFPE: floating-point exception";
    case SIGILL:
      return "SIGILL: illegal instruction";
    case SIGABRT:
      return "SIGABRT: abort";
  }
  return "unexpected signal";
}

// The whole dump, piece by piece; for a crash on a thread that runs no
// fiber, that thread's frames after it.
void emit_dump(std::string_view why, const DumpOptions& opts, bool crash, const DumpSink& sink) {
  const Capture cap = capture_fibers();
  format_dump_to(cap, why, opts, sink);
  if (crash && !g_crash.on_worker && g_crash.plain_stack.total > 0) {
    FiberSnapshot t;
    t.is_main = true;
    t.stack = g_crash.plain_stack;
    const std::string block = format_fiber(t, 0, opts);
    sink("\ncrashed thread (no fiber):" + block.substr(block.find('\n')));
  }
}

// Writes the dump to every fd, even when memory has run out (fiber_dump.h):
// whole and symbolized; again once the reserve is given back; else with
// raw frames, block by block. `release_first`: the dump ends the process,
// so the reserve has nothing left to wait for (and libdw is spared a first
// try that could fail half-way through reading debug information).
void write_dump_resilient(std::string_view why, bool crash, bool release_first,
                          std::initializer_list<int> fds) {
  auto out = [&](std::string_view s) {
    for (int fd : fds) write_all(fd, s);
  };
  if (release_first) release_dump_memory();
  DumpOptions opts = default_dump_options();
  for (;;) {
    try {
      std::string text;
      emit_dump(why, opts, crash, [&](std::string_view s) { text += s; });
      out(text);
      return;
    } catch (...) {  // std::bad_alloc; std::system_error from a thread that could not start
    }
    if (!release_dump_memory()) break;
  }
  bool started = false;
  try {
    opts.symbolize = false;
    emit_dump(why, opts, crash, [&](std::string_view s) {
      started = true;
      out(s);
    });
    return;
  } catch (...) {
  }
  out(started ? "\n(dump cut short: out of memory)\n" : "(no dump: it failed, out of memory)\n");
}

void write_user_dump(std::string_view why) {
  // No std::string here: the names must not be what fails.
  char path[64], tmp[72];
  std::snprintf(path, sizeof path, "/tmp/tether-%d.dump", static_cast<int>(getpid()));
  std::snprintf(tmp, sizeof tmp, "%s.tmp", path);
  const int fd = ::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    write_dump_resilient(why, false, false, {2});
  } else {
    write_dump_resilient(why, false, false, {2, fd});
    ::close(fd);
    ::rename(tmp, path);
  }
  reserve_dump_memory();  // again, if a dump gave it back and memory allows
}

void dump_thread_main() {
  tls_is_dumper = true;
  pthread_setname_np(pthread_self(), "tether-dump");
  for (;;) {
    if (sem_wait(&g_sem) != 0) continue;  // EINTR
    if (g_crash.requested.exchange(0) != 0) {
      write_dump_resilient("crash", true, true, {2});
      g_crash.done.store(1, std::memory_order_release);
      futex_wake_all(&g_crash.done);
      continue;
    }
    if (g_terminate.requested.exchange(0) != 0) {
      write_dump_resilient("std::terminate", false, true, {2});
      g_terminate.done.store(1, std::memory_order_release);
      futex_wake_all(&g_terminate.done);
      continue;
    }
    if (g_quit_requests.exchange(0) != 0) {
      write_dump_resilient("SIGQUIT", false, true, {2});
      trace::flush_before_exit();
      _exit(2);
    }
    if (g_user_requests.exchange(0) != 0) {
      write_user_dump(g_dump_signal == SIGUSR2 ? "SIGUSR2" : "SIGUSR1");
    }
  }
}

void request_handler(int sig, siginfo_t*, void*) {
  const int saved = errno;
  (sig == SIGQUIT ? g_quit_requests : g_user_requests).fetch_add(1);
  sem_post(&g_sem);
  errno = saved;
}

// Puts back the handler that was there before ours (or the default action)
// so that the signal, raised again, ends the process as it would have.
void chain(int sig, siginfo_t* si) {
  trace::flush_for_crash();  // every record so far on disk before the process dies
  struct sigaction old = g_old_actions[sig];
  if (old.sa_handler == SIG_IGN || (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL) ||
      old.sa_sigaction == nullptr) {
    signal(sig, SIG_DFL);
  } else {
    sigaction(sig, &old, nullptr);
  }
  // A fault re-executes and faults again once we return; a sent signal
  // (kill, raise, abort's first raise) must be raised again.
  if (si == nullptr || si->si_code <= 0 || sig == SIGABRT) raise(sig);
}

void crash_handler(int sig, siginfo_t* si, void* ucv) {
  auto* uc = static_cast<ucontext_t*>(ucv);
  const int self_tid = static_cast<int>(syscall(SYS_gettid));
  int expected = 0;
  if (!g_crash.owner.compare_exchange_strong(expected, self_tid)) {
    // A second crash (another thread, or inside this dump): the first one's
    // report is under way, or we are recursing; die the ordinary way.
    if (expected != self_tid) {
      timespec ts{20, 0};
      nanosleep(&ts, nullptr);
    }
    chain(sig, si);
    return;
  }
  if (sig == SIGABRT && g_crash.fatal_dumped.load()) {  // std::terminate already reported
    chain(sig, si);
    return;
  }
  std::uint64_t fiber = 0, overflow = 0;
  std::size_t stack_size = 0;
  const bool on_worker =
      hold_crashed_thread(uc, si ? si->si_addr : nullptr, &fiber, &overflow, &stack_size);
  Worker* w = current_worker();
  LineBuf line;
  if (overflow != 0) {
    line << "fatal error: stack overflow in fiber ";
    line.num(overflow);
    // The fiber's name: the overflowing fiber is this worker's current one.
    if (w && w->current && w->current->id == overflow && !w->current->name.empty())
      line << " \"" << w->current->name.c_str() << "\"";
    line << " (stack size ";
    line.num(stack_size / 1024) << " KiB)";
  } else {
    line << "fatal error: " << signal_text(sig);
    if (sig != SIGABRT && si) {
      line << " addr=";
      line.num(reinterpret_cast<std::uintptr_t>(si->si_addr), 16);
    }
    line << " pc=";
    line.num(static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]), 16);
    if (fiber != 0) {
      line << " in fiber ";
      line.num(fiber);
    }
  }
  if (w) line << " on thread \"" << w->name.c_str() << "\"";
  line << "\n";
  write_all(2, std::string_view(line.buf, line.n));
  if (g_dump_thread_started && !tls_is_dumper) {
    g_crash.on_worker = on_worker;
    if (!on_worker) sample_context(uc, &g_crash.plain_stack);
    g_crash.requested.store(1);
    sem_post(&g_sem);
    wait_done(&g_crash.done);
  }
  if (on_worker) release_crashed_thread();
  chain(sig, si);
}

std::terminate_handler g_old_terminate = nullptr;

// A misuse_error nobody caught ends the program: a finding of its own in the
// JSON report (kind and pattern "misuse"), the message as its text. Not in
// TETHER_REPORT_FILE: the program dies of SIGABRT, which `tether run` reports.
void report_fatal_misuse() noexcept {
  try {
    std::exception_ptr e = std::current_exception();
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const misuse_error& m) {
      ReportFiber f;
      f.id = m.fiber_id();
      if (Fiber* cur = current_fiber(); cur && cur->id == f.id) f.name = cur->name;
      f.state = "running";
      f.file = m.site().file_name() ? m.site().file_name() : "";
      f.line = m.site().line();
      std::vector<ReportFiber> fibers;
      if (f.id != 0) fibers.push_back(std::move(f));
      FindingsReport::instance().add(
          "misuse", "misuse", fibers, {},
          "a misuse_error nobody caught ended the program (on thread \"" + m.thread() + "\")",
          m.what());
    } catch (...) {
    }
  } catch (...) {
  }
}

void terminate_handler() {
  // The process ends here: the reserve is the room the line and the dump
  // need when an exhausted heap is why we are here (an uncaught bad_alloc).
  release_dump_memory();
  report_fatal_misuse();
  if (!runtime() || g_crash.fatal_dumped.exchange(true)) {
    if (g_old_terminate) g_old_terminate();
    std::abort();
  }
  // The line first, then the dump: when memory ran out (a std::bad_alloc
  // nobody caught) the dump may fail, the line still gets out.
  const std::uint64_t fiber = current_fiber_id();
  try {
    std::string what = "no active exception";
    if (std::exception_ptr e = std::current_exception()) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        what = demangle(typeid(ex).name()) + ": " + ex.what();
      } catch (...) {
        what = "an exception that is not a std::exception";
      }
    }
    write_all(2, fiber != 0 ? "fatal error: uncaught exception in fiber " + std::to_string(fiber) +
                                  ": " + what + "\n"
                            : "fatal error: std::terminate on thread \"" + current_thread_name() +
                                  "\": " + what + "\n");
  } catch (...) {
    LineBuf line;
    line << "fatal error: uncaught exception in fiber ";
    line.num(fiber) << " (out of memory while describing it)\n";
    write_all(2, std::string_view(line.buf, line.n));
  }
  // The dump thread makes the dump: its stack is there already (a thread
  // started now could fail for want of memory), and it sees this thread
  // like any other, stopped while the stacks are taken.
  if (g_dump_thread_started && !tls_is_dumper) {
    g_terminate.requested.store(1);
    sem_post(&g_sem);
    wait_done(&g_terminate.done);
  } else {
    write_dump_resilient("std::terminate", false, true, {2});
  }
  signal(SIGABRT, SIG_DFL);
  std::abort();
}

bool crash_handlers_enabled() {
  const char* e = std::getenv("TETHER_DUMP_ON_CRASH");
  return !(e && std::strcmp(e, "0") == 0);
}

int dump_signal_from_env() {
  const char* e = std::getenv("TETHER_DUMP_SIGNAL");
  if (!e || !*e || std::strcmp(e, "USR1") == 0 || std::strcmp(e, "SIGUSR1") == 0) return SIGUSR1;
  if (std::strcmp(e, "USR2") == 0 || std::strcmp(e, "SIGUSR2") == 0) return SIGUSR2;
  if (std::strcmp(e, "none") != 0) {
    std::fprintf(stderr, "tether: TETHER_DUMP_SIGNAL=%s: expected USR1, USR2 or none; using none\n",
                 e);
  }
  return 0;
}

}  // namespace

int dump_signal() noexcept {
  return g_dump_signal;
}

void install_dump_handlers() {
  std::call_once(g_install_once, [] {
    init_stack_capture();
    Symbolizer::instance();  // reads the modules now, not in the middle of a crash
    reserve_dump_memory();
    if (sem_init(&g_sem, 0, 0) != 0) return;
    try {
      std::thread(dump_thread_main).detach();
      g_dump_thread_started = true;
    } catch (...) {
      return;
    }
    g_dump_signal = dump_signal_from_env();
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = request_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGQUIT, &sa, nullptr);
    if (g_dump_signal != 0) sigaction(g_dump_signal, &sa, nullptr);
    if (!crash_handlers_enabled()) return;
    sa.sa_sigaction = crash_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    for (int sig : kCrashSignals) sigaction(sig, &sa, &g_old_actions[sig]);
    g_old_terminate = std::set_terminate(terminate_handler);
  });
}

}  // namespace tether::detail

namespace tether {

std::string dump_string() {
  return detail::dump_text("requested");
}

void write_dump(int fd) {
  detail::write_all(fd, dump_string());
}

}  // namespace tether
