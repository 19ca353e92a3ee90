// Fiber dumps: formatting (docs/dump-format.md), the dump thread, and the
// signal, crash and terminate handlers.
#include "fiber_dump.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <typeinfo>

#include "fiber_impl.h"
#include "futex.h"
#include "findings_report.h"
#include "runtime_state.h"
#include "scheduler.h"
#include "sync_object.h"
#include "tether/dump.h"
#include "tether/errors.h"
#include "trace_writer.h"

namespace tether::detail {

// ---- trimming and symbolizing ----

namespace {

// Runs fn on a thread of its own when called on a fiber: libdw needs more
// stack than a fiber has (dwarf_getsrclines alone overflows 64 KiB), and a
// capture started from another thread sees the calling fiber like any other.
template <class F>
auto off_fiber(F&& fn) -> decltype(fn()) {
  if (current_worker() == nullptr) return fn();
  std::optional<decltype(fn())> result;
  std::exception_ptr error;
  std::thread([&] {
    try {
      result.emplace(fn());
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

constexpr std::size_t kShowInner = 50;
constexpr std::size_t kShowOuter = 50;

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

// The runtime's own sources (this file's directory): inlined internals can
// carry unqualified names ("off_fiber<...>"), but never another directory.
std::string_view runtime_src_dir() {
  static const std::string dir = [] {
    std::string f = __FILE__;
    return f.substr(0, f.rfind('/') + 1);
  }();
  return dir;
}

// Runtime machinery: never the user's code.
bool is_internal(const Frame& f) {
  return starts_with(f.function, "tether::detail::") || starts_with(f.function, "boost::context::") ||
         (!starts_with(f.function, "tether::") && !f.file.empty() &&
          starts_with(f.file, runtime_src_dir())) ||
         starts_with(f.function, "tether::Task::") || f.function == "jump_fcontext" ||
         f.function == "make_fcontext" || f.function == "ontop_fcontext";
}

// Frames a user did not write but that are not the runtime either: the C and
// C++ libraries (a syscall's libc wrapper, std::mutex inlined in the runtime).
bool is_system(const Frame& f) {
  static constexpr std::string_view kLibs[] = {"/libc.so", "/libstdc++", "/libgcc_s", "/libunwind",
                                               "/ld-linux", "/libpthread", "/libboost_context"};
  for (std::string_view lib : kLibs) {
    if (f.module.find(lib) != std::string::npos) return true;
  }
  // Inlined library code carries the header's path (its name may be
  // unqualified: std::thread's constructor shows as "thread<...>").
  return starts_with(f.function, "std::") || starts_with(f.function, "__") ||
         starts_with(f.file, "/usr/include/");
}

// Whether a frame's source is tether's own (runtime/src or the public headers).
bool in_tether_sources(const Frame& f) {
  if (f.file.empty()) return false;
  const std::string_view src = runtime_src_dir();  // ".../runtime/src/"
  const std::string_view root = src.substr(0, src.size() - 4);
  return starts_with(f.file, src) || starts_with(f.file, std::string(root) + "include/tether/");
}

// The first template argument after `prefix` ("tether::run<" -> "main::{lambda()#1}").
std::string template_arg(const std::string& name, std::string_view prefix) {
  int depth = 1;
  for (std::size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] == '<') ++depth;
    if (name[i] == '>' && --depth == 0) return name.substr(prefix.size(), i - prefix.size());
  }
  return {};
}

// A fiber's function inlined into Task's type-erased call (or into run()'s
// wrapper): the frame's line is the user's, so name it after the user's
// callable (as Go names "main.main.func1").
void rename_inlined_task(Frame& f) {
  if (in_tether_sources(f)) return;
  // Task::Impl<run<F>(F&&)::{lambda()#1}>::call() -> run<F>(...)::... -> F.
  for (std::string_view prefix : {"tether::Task::Impl<", "tether::run<", "auto tether::run<"}) {
    if (!starts_with(f.function, prefix)) continue;
    const std::string callable = template_arg(f.function, prefix);
    if (!callable.empty()) f.function = callable + "::operator()()";
  }
}

// The fiber's entry machinery, run()'s wrapper around fiber 1 included.
bool is_entry(const Frame& f) {
  return is_internal(f) || (in_tether_sources(f) && (starts_with(f.function, "tether::run<") ||
                                                     starts_with(f.function, "auto tether::run<")));
}

}  // namespace

SymbolizedStack symbolize_stack(const RawStack& raw) {
  if (current_worker() != nullptr) return off_fiber([&] { return symbolize_stack(raw); });
  SymbolizedStack out;
  out.status = raw.status;
  std::size_t raw_gap_at = 0, raw_elided = 0;
  const std::vector<std::uintptr_t> pcs = raw.pcs(&raw_gap_at, &raw_elided);
  Symbolizer& sym = Symbolizer::instance();
  std::vector<Frame> inner, outer;
  for (std::size_t i = 0; i < pcs.size(); ++i) {
    const std::vector<Frame>& fs = sym.symbolize(pcs[i], i == 0 && raw.first_is_exact);
    auto& dst = i < raw_gap_at ? inner : outer;
    for (const Frame& f : fs) {
      dst.push_back(f);
      rename_inlined_task(dst.back());
    }
  }
  // Top: drop the leading runtime frames (and the library frames among
  // them), up to the last runtime frame of the leading non-user run.
  std::size_t top = 0, last_internal = 0;
  bool any_internal = false;
  for (std::size_t i = 0; i < inner.size() && (is_internal(inner[i]) || is_system(inner[i])); ++i) {
    if (is_internal(inner[i])) {
      any_internal = true;
      last_internal = i;
    }
  }
  if (any_internal && last_internal + 1 < inner.size() + outer.size()) top = last_internal + 1;
  inner.erase(inner.begin(), inner.begin() + static_cast<std::ptrdiff_t>(std::min(top, inner.size())));
  // Bottom: drop the fiber's entry machinery.
  auto& tail = outer.empty() ? inner : outer;
  while (tail.size() > 1 && is_entry(tail.back())) tail.pop_back();

  // 50 innermost + 50 outermost.
  std::size_t elided = raw_elided;
  if (raw_elided == 0) {
    inner.insert(inner.end(), std::make_move_iterator(outer.begin()),
                 std::make_move_iterator(outer.end()));
    outer.clear();
    if (inner.size() > kShowInner + kShowOuter) {
      outer.assign(std::make_move_iterator(inner.end() - kShowOuter),
                   std::make_move_iterator(inner.end()));
      elided = inner.size() - kShowInner - kShowOuter;
      inner.resize(kShowInner);
    }
  } else {
    if (inner.size() > kShowInner) {
      elided += inner.size() - kShowInner;
      inner.resize(kShowInner);
    }
    if (outer.size() > kShowOuter) {
      elided += outer.size() - kShowOuter;
      outer.erase(outer.begin(), outer.end() - kShowOuter);
    }
  }
  out.elided_after = inner.size();
  out.elided = elided;
  out.frames = std::move(inner);
  for (Frame& f : outer) out.frames.push_back(std::move(f));
  return out;
}

// ---- formatting ----

namespace {

std::string duration_text(std::int64_t ns) {
  const std::int64_t s = ns / 1'000'000'000;
  if (s < 1) return {};
  if (s < 60) return s == 1 ? "1 second" : std::to_string(s) + " seconds";
  const std::int64_t m = s / 60;
  return m == 1 ? "1 minute" : std::to_string(m) + " minutes";
}

std::string quoted(std::string_view s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += (c == '\n' ? ' ' : c);
  }
  return q + "\"";
}

std::string hex(std::uintptr_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void append_frame(std::string& s, const Frame& f) {
  s += f.function;
  s += '\n';
  s += '\t';
  if (!f.file.empty()) {
    s += f.file + ":" + std::to_string(f.line);
  } else {
    s += (f.module.empty() ? std::string("??") : base_name(f.module)) + ":0";
  }
  if (!f.inlined) s += " +" + hex(f.function == "??" ? f.pc : f.offset);
  s += '\n';
}

}  // namespace

std::string format_fiber_header(const FiberSnapshot& f, std::int64_t now_ns) {
  std::string s = "fiber " + std::to_string(f.id);
  if (!f.name.empty()) s += " " + quoted(f.name);
  s += " [";
  s += to_string(f.reason);
  if (f.reason != WaitReason::running && f.reason != WaitReason::runnable) {
    const std::string d = duration_text(now_ns - f.since_ns);
    if (!d.empty()) s += ", " + d;
  }
  if (!f.object.empty()) s += ", " + f.object;
  if (!f.syscall.empty()) s += ", in syscall " + f.syscall;
  if (!f.locked_to.empty()) s += ", locked to thread " + quoted(f.locked_to);
  s += "]:";
  return s;
}

std::string format_fiber(const FiberSnapshot& f, std::int64_t now_ns) {
  std::string s = format_fiber_header(f, now_ns);
  s += '\n';
  const SymbolizedStack st = symbolize_stack(f.stack);
  if (st.status != StackStatus::ok && st.frames.empty()) {
    s += std::string("(no stack: ") + to_string(st.status) + ")\n";
  }
  for (std::size_t i = 0; i < st.frames.size(); ++i) {
    if (i == st.elided_after && st.elided > 0) {
      s += "...";
      s += std::to_string(st.elided);
      s += " frames elided...\n";
    }
    append_frame(s, st.frames[i]);
  }
  if (!f.is_main) {
    s += f.parent != 0 ? "created by fiber " + std::to_string(f.parent) : "created by a thread";
    s += std::string(" at ") + f.created_at.file_name() + ":" +
         std::to_string(f.created_at.line()) + "\n";
  }
  return s;
}

std::string format_fibers(const Capture& cap, std::string_view header,
                          const std::vector<std::uint64_t>& ids) {
  if (current_worker() != nullptr) return off_fiber([&] { return format_fibers(cap, header, ids); });
  std::string s(header);
  if (!s.empty() && s.back() != '\n') s += '\n';
  for (const FiberSnapshot& f : cap.fibers) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), f.id) == ids.end()) continue;
    s += '\n';
    s += format_fiber(f, cap.taken_at_ns);
  }
  return s;
}

std::string format_dump(const Capture& cap, std::string_view why) {
  std::string s = "tether: fiber dump of process " + std::to_string(getpid());
  s += " (" + std::string(program_invocation_short_name) + ")";
  const time_t secs = static_cast<time_t>(cap.wall_time_ns / 1'000'000'000);
  tm t{};
  gmtime_r(&secs, &t);
  char when[64];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(cap.wall_time_ns / 1'000'000 % 1000));
  s += std::string(" at ") + when;
  if (!why.empty()) s += " (" + std::string(why) + ")";
  s += '\n';
  if (cap.threads.empty() && cap.fibers.empty()) {
    s += "no tether runtime is running\n";
    return s;
  }
  s += "threads: " + std::to_string(cap.threads.size()) + "\n";
  for (const ThreadSnapshot& th : cap.threads) {
    s += "  thread " + quoted(th.name) + " tid " + std::to_string(th.tid) + ": ";
    if (!th.answered) {
      s += "did not stop";
    } else if (th.running_fiber != 0) {
      s += (th.in_syscall ? "in syscall, fiber " : "running fiber ") +
           std::to_string(th.running_fiber);
    } else {
      s += th.idle ? "idle" : "scheduling";
    }
    if (th.crashed) s += " (crashed)";
    s += '\n';
  }
  s += "fibers: " + std::to_string(cap.fibers.size()) + "\n";
  return format_fibers(cap, s);
}

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

// The crash being reported (only the first crash of the process).
struct CrashState {
  std::atomic<int> owner{0};
  std::atomic<int> requested{0};
  std::atomic<std::uint32_t> done{0};
  bool on_worker = false;
  RawStack plain_stack;  // the crashing thread's stack when it runs no fiber
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

const char* signal_text(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV: segmentation violation";
    case SIGBUS: return "SIGBUS: bus error";
    case SIGFPE: return "SIGFPE: floating-point exception";
    case SIGILL: return "SIGILL: illegal instruction";
    case SIGABRT: return "SIGABRT: abort";
  }
  return "unexpected signal";
}

void write_crash_dump() {
  std::string text = dump_text("crash");
  if (!g_crash.on_worker && g_crash.plain_stack.total > 0) {
    FiberSnapshot t;
    t.is_main = true;
    t.stack = g_crash.plain_stack;
    std::string block = format_fiber(t, 0);
    block = "crashed thread (no fiber):" + block.substr(block.find('\n'));
    text += "\n" + block;
  }
  write_all(2, text);
}

void write_user_dump(std::string_view why) {
  const std::string text = dump_text(why);
  write_all(2, text);
  const std::string path = "/tmp/tether-" + std::to_string(getpid()) + ".dump";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  write_all(fd, text);
  ::close(fd);
  ::rename(tmp.c_str(), path.c_str());
}

void dump_thread_main() {
  tls_is_dumper = true;
  pthread_setname_np(pthread_self(), "tether-dump");
  for (;;) {
    if (sem_wait(&g_sem) != 0) continue;  // EINTR
    if (g_crash.requested.exchange(0) != 0) {
      write_crash_dump();
      g_crash.done.store(1, std::memory_order_release);
      futex_wake_all(&g_crash.done);
      continue;
    }
    if (g_quit_requests.exchange(0) != 0) {
      write_all(2, dump_text("SIGQUIT"));
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
  const bool on_worker = hold_crashed_thread(uc, si ? si->si_addr : nullptr, &fiber, &overflow,
                                             &stack_size);
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
    while (g_crash.done.load(std::memory_order_acquire) == 0) {
      if (futex_wait(&g_crash.done, 0, 15'000'000'000) != 0 &&
          errno == ETIMEDOUT) {
        break;
      }
    }
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
    write_all(2, fiber != 0 ? "fatal error: uncaught exception in fiber " +
                                  std::to_string(fiber) + ": " + what + "\n"
                            : "fatal error: std::terminate on thread \"" +
                                  current_thread_name() + "\": " + what + "\n");
  } catch (...) {
    LineBuf line;
    line << "fatal error: uncaught exception in fiber ";
    line.num(fiber) << " (out of memory while describing it)\n";
    write_all(2, std::string_view(line.buf, line.n));
  }
  try {
    write_all(2, dump_text("std::terminate"));
  } catch (...) {
    write_all(2, "(no dump: it failed, out of memory)\n");
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

int dump_signal() noexcept { return g_dump_signal; }

void install_dump_handlers() {
  std::call_once(g_install_once, [] {
    init_stack_capture();
    Symbolizer::instance();  // reads the modules now, not in the middle of a crash
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

std::string dump_string() { return detail::dump_text("requested"); }

void write_dump(int fd) { detail::write_all(fd, dump_string()); }

}  // namespace tether
