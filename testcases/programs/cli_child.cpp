// cli_child: a small program that `tether run`'s end-to-end tests supervise.
// It does not use the tether runtime, so the CLI can be tested without it.
//
//   cli_child exit N                  exit with status N
//   cli_child raise SIG               die of signal SIG (name like TERM, or a number)
//   cli_child trap SIG N READY        on SIG exit N (printing "cli_child: got SIGx" to
//                                     stderr); touch READY ('-': none) once the handler
//                                     is installed, then wait (exit 1 after 60 s)
//   cli_child ignore SIG READY        ignore SIG, touch READY, then wait (exit 1 after 60 s)
//   cli_child env                     print the TETHER_* environment, sorted
//   cli_child args ...                print each argument on its own line
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: cli_child exit N | raise SIG | trap SIG N READY | ignore SIG READY "
               "| env | args ...\n");
  return 64;
}

int parse_signal(const char* text) {
  const std::string_view s(text);
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') return std::atoi(text);
  const std::string_view name = s.substr(0, 3) == "SIG" ? s.substr(3) : s;
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev && name == abbrev) return sig;
  }
  std::fprintf(stderr, "cli_child: unknown signal %s\n", text);
  std::exit(64);
}

volatile sig_atomic_t g_exit_code = 0;

void on_signal(int sig) {
  char line[64];
  const int n = std::snprintf(line, sizeof line, "cli_child: got SIG%s\n", sigabbrev_np(sig));
  if (n > 0) {
    ssize_t ignored = write(STDERR_FILENO, line, static_cast<size_t>(n));
    (void)ignored;
  }
  _exit(g_exit_code);
}

void touch(const char* path) {
  if (std::string_view(path) != "-") std::ofstream(path).put('\n');
}

// Waits for a signal, at most 60 s; long enough for any test, short enough
// that a broken supervisor does not leave processes behind for long.
int wait_for_signal() {
  for (int i = 0; i < 600; ++i) usleep(100'000);
  std::fprintf(stderr, "cli_child: no signal within 60 s\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string_view mode(argv[1]);
  if (mode == "exit" && argc == 3) return std::atoi(argv[2]);
  if (mode == "raise" && argc == 3) {
    const int sig = parse_signal(argv[2]);
    signal(sig, SIG_DFL);
    raise(sig);
    return 1;  // the signal was not fatal
  }
  if (mode == "trap" && argc == 5) {
    const int sig = parse_signal(argv[2]);
    g_exit_code = std::atoi(argv[3]);
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
    touch(argv[4]);
    return wait_for_signal();
  }
  if (mode == "ignore" && argc == 4) {
    signal(parse_signal(argv[2]), SIG_IGN);
    touch(argv[3]);
    return wait_for_signal();
  }
  if (mode == "env" && argc == 2) {
    std::vector<std::string> vars;
    for (char** e = environ; *e; ++e) {
      if (std::string_view(*e).substr(0, 7) == "TETHER_") vars.emplace_back(*e);
    }
    std::sort(vars.begin(), vars.end());
    for (const std::string& v : vars) std::printf("%s\n", v.c_str());
    return 0;
  }
  if (mode == "args") {
    for (int i = 2; i < argc; ++i) std::printf("%s\n", argv[i]);
    return 0;
  }
  return usage();
}
