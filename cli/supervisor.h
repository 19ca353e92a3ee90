// cli/supervisor.h — running a program under `tether run`.
//
// supervise() starts the program as a child process with extra environment
// variables, forwards the usual job-control and debugging signals to it,
// enforces an optional timeout and reports how the child ended. It never
// throws for problems of the child (a program that cannot be executed is an
// outcome, not an exception), and it always reaps the child.
//
// Signals: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to the
// supervisor (by kill(1), a service manager, CI) are passed on to the child.
// Those that the terminal sends to the whole foreground process group
// (Ctrl-C, Ctrl-\, a hang-up) already reach the child, which shares the
// supervisor's process group, and are not sent a second time.
//
// Timeout: when it expires the child gets SIGQUIT, on which the tether
// runtime prints every fiber's stack and exits (as Go does); if it is still
// alive kill_after later, it gets SIGKILL.
//
// Not thread-safe: it changes the calling thread's signal mask while it runs.
// Meant to be called from a single-threaded process (the tether command).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tether::cli {

// The path execve() would run for `program`: a name with a '/' is used as
// given, anything else is looked up in $PATH (an empty or unset PATH means
// "/usr/local/bin:/usr/bin:/bin", as execvp does). Returns the path, or
// nullopt with *error set to one line naming the program and the reason
// ("No such file or directory", "not found in PATH", "is a directory",
// "Permission denied", ...).
std::optional<std::string> resolve_program(const std::string& program, std::string* error);

struct SuperviseOptions {
  std::string path;               // from resolve_program()
  std::vector<std::string> argv;  // argv[0] is what the child sees as its name
  std::vector<std::string> env;   // "NAME=value": set (or replace) in the child's environment
  // No timeout when unset or zero.
  std::optional<std::chrono::nanoseconds> timeout;
  std::chrono::nanoseconds kill_after = std::chrono::seconds(5);
};

struct SuperviseResult {
  enum class Outcome {
    exited,       // exit_status is the child's status
    signaled,     // the child died of `signal` (core_dumped if it dumped core)
    exec_failed,  // the child could not be started; error says why
  };
  Outcome outcome = Outcome::exited;
  int exit_status = 0;
  int signal = 0;
  bool core_dumped = false;
  bool timed_out = false;  // the timeout expired (the child was sent SIGQUIT)
  bool sent_kill = false;  // ...and was still alive kill_after later (SIGKILL)
  pid_t pid = 0;
  std::string error;
};

SuperviseResult supervise(const SuperviseOptions& options);

// "SIGTERM", "SIGSEGV", ...; "signal N" for numbers without a name.
std::string signal_name(int sig);

}  // namespace tether::cli
