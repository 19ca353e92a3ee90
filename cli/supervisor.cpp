#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

extern char** environ;

namespace tether::cli {
namespace {

using Clock = std::chrono::steady_clock;

// The signals passed on to the child (see supervisor.h).
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// What a file at `path` is, for error messages; empty if it can be executed.
std::string why_not_executable(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return strerror(errno);
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  if (access(path.c_str(), X_OK) != 0) return fmt::format("{} (not executable)", strerror(errno));
  return {};
}

std::string_view env_name(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

timespec to_timespec(std::chrono::nanoseconds d) {
  if (d.count() < 0) d = std::chrono::nanoseconds(0);
  timespec ts;
  ts.tv_sec = static_cast<time_t>(d.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(d.count() % 1'000'000'000);
  return ts;
}

void on_sigchld(int) {}  // only so SIGCHLD is never discarded; sigtimedwait takes it

}  // namespace

std::string signal_name(int sig) {
  if (const char* abbrev = sigabbrev_np(sig)) return fmt::format("SIG{}", abbrev);
  return fmt::format("signal {}", sig);
}

std::optional<std::string> resolve_program(const std::string& program, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<std::string> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (program.empty()) return fail("empty program name");
  if (program.find('/') != std::string::npos) {
    const std::string why = why_not_executable(program);
    if (!why.empty()) return fail(fmt::format("{}: {}", program, why));
    return program;
  }
  const char* path_env = getenv("PATH");
  std::string_view path =
      (path_env && *path_env) ? std::string_view(path_env) : "/usr/local/bin:/usr/bin:/bin";
  std::string first_problem;  // e.g. found but not executable
  while (true) {
    const std::size_t colon = path.find(':');
    std::string_view dir = path.substr(0, colon);
    const std::string candidate =
        dir.empty() ? program : fmt::format("{}/{}", dir, program);  // empty entry: "."
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0) {
      const std::string why = why_not_executable(candidate);
      if (why.empty()) return candidate;
      if (first_problem.empty()) first_problem = fmt::format("{}: {}", candidate, why);
    }
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  if (!first_problem.empty()) return fail(first_problem);
  return fail(fmt::format("{}: command not found in PATH", program));
}

SuperviseResult supervise(const SuperviseOptions& options) {
  SuperviseResult result;

  // The child's environment: ours, with options.env replacing same-named entries.
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    bool replaced = false;
    for (const std::string& extra : options.env) replaced |= env_name(extra) == env_name(entry);
    if (!replaced) env_store.emplace_back(entry);
  }
  env_store.insert(env_store.end(), options.env.begin(), options.env.end());
  std::vector<char*> envp;
  for (std::string& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_store = options.argv;
  if (argv_store.empty()) argv_store.push_back(options.path);
  std::vector<char*> argv;
  for (std::string& s : argv_store) argv.push_back(s.data());
  argv.push_back(nullptr);

  // Block the forwarded signals and SIGCHLD before fork, so none is lost or
  // acts on us between fork and the wait loop; the loop takes them with
  // sigtimedwait, so no asynchronous handler ever runs.
  sigset_t wait_set;
  sigemptyset(&wait_set);
  for (int sig : kForwarded) sigaddset(&wait_set, sig);
  sigaddset(&wait_set, SIGCHLD);
  struct sigaction chld_action = {};
  chld_action.sa_handler = on_sigchld;
  chld_action.sa_flags = SA_NOCLDSTOP;
  sigemptyset(&chld_action.sa_mask);
  struct sigaction old_chld_action;
  sigaction(SIGCHLD, &chld_action, &old_chld_action);
  sigset_t old_mask;
  sigprocmask(SIG_BLOCK, &wait_set, &old_mask);

  // exec failures come back through a close-on-exec pipe: EOF means exec worked.
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    result.outcome = SuperviseResult::Outcome::exec_failed;
    result.error = fmt::format("pipe: {}", strerror(errno));
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    sigaction(SIGCHLD, &old_chld_action, nullptr);
    return result;
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(exec_pipe[0]);
    sigaction(SIGCHLD, &old_chld_action, nullptr);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    execve(options.path.c_str(), argv.data(), envp.data());
    const int err = errno;
    ssize_t ignored = write(exec_pipe[1], &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  close(exec_pipe[1]);
  if (pid < 0) {
    close(exec_pipe[0]);
    result.outcome = SuperviseResult::Outcome::exec_failed;
    result.error = fmt::format("fork: {}", strerror(errno));
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    sigaction(SIGCHLD, &old_chld_action, nullptr);
    return result;
  }
  result.pid = pid;
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  close(exec_pipe[0]);

  const bool exec_failed = n == static_cast<ssize_t>(sizeof exec_errno);
  const bool has_timeout = options.timeout && options.timeout->count() > 0;
  const Clock::time_point deadline =
      has_timeout ? Clock::now() + *options.timeout : Clock::time_point{};
  Clock::time_point kill_deadline{};
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno == ECHILD)) break;

    siginfo_t info;
    int sig;
    if (!exec_failed && has_timeout && !result.sent_kill) {
      const Clock::time_point until = result.timed_out ? kill_deadline : deadline;
      const timespec ts = to_timespec(until - Clock::now());
      sig = sigtimedwait(&wait_set, &info, &ts);
    } else {
      sig = sigwaitinfo(&wait_set, &info);
    }
    if (sig < 0) {
      if (errno != EAGAIN) continue;  // EINTR: look again
      if (!result.timed_out) {
        result.timed_out = true;
        kill(pid, SIGQUIT);
        kill_deadline = Clock::now() + options.kill_after;
      } else {
        result.sent_kill = true;
        kill(pid, SIGKILL);
      }
      continue;
    }
    if (sig == SIGCHLD || exec_failed) continue;
    // The terminal signals the whole foreground process group (si_code
    // SI_KERNEL), the child included: do not deliver those twice.
    if (info.si_code == SI_KERNEL) continue;
    kill(pid, sig);
  }

  // Signals that arrived after the child ended must not act on us once unblocked.
  const timespec zero = {0, 0};
  while (sigtimedwait(&wait_set, nullptr, &zero) > 0) {
  }
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGCHLD, &old_chld_action, nullptr);

  if (exec_failed) {
    result.outcome = SuperviseResult::Outcome::exec_failed;
    result.error = fmt::format("{}: {}", options.path, strerror(exec_errno));
  } else if (WIFSIGNALED(status)) {
    result.outcome = SuperviseResult::Outcome::signaled;
    result.signal = WTERMSIG(status);
    result.core_dumped = WCOREDUMP(status);
  } else {
    result.outcome = SuperviseResult::Outcome::exited;
    result.exit_status = WEXITSTATUS(status);
  }
  return result;
}

}  // namespace tether::cli
