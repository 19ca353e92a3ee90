// `tether dump PID`: asks a running tether program for a fiber dump and
// prints it (docs/dump-format.md).
//
// The program's runtime answers its dump signal (TETHER_DUMP_SIGNAL, SIGUSR1
// by default) by writing /tmp/tether-PID.dump whole and renaming it into
// place; we send the signal and wait for that file to be replaced. Before
// signalling we check that the process catches the signal: sent to a
// program that does not, SIGUSR1 would kill it.
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include "commands.h"
#include "duration.h"
#include "exit_codes.h"

namespace tether::cli {
namespace {

struct FileStamp {
  bool exists = false;
  ino_t ino = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  return {true, st.st_ino, std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

// The dump signal the process chose (TETHER_DUMP_SIGNAL in its environment):
// SIGUSR1, SIGUSR2, or 0 for none. Unreadable environment: the default.
int dump_signal_of(long pid) {
  std::ifstream in(fmt::format("/proc/{}/environ", pid), std::ios::binary);
  std::string var;
  while (std::getline(in, var, '\0')) {
    if (var.rfind("TETHER_DUMP_SIGNAL=", 0) != 0) continue;
    const std::string v = var.substr(std::strlen("TETHER_DUMP_SIGNAL="));
    if (v == "USR2" || v == "SIGUSR2") return SIGUSR2;
    if (v == "none") return 0;
    return SIGUSR1;
  }
  return SIGUSR1;
}

// Whether the process has a handler for sig (the SigCgt mask of /proc/PID/status).
bool catches(long pid, int sig) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("SigCgt:", 0) != 0) continue;
    const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
    return (mask >> (sig - 1)) & 1;
  }
  return false;
}

int run_dump(long pid, const std::string& timeout_text) {
  std::string err;
  const auto timeout = parse_duration(timeout_text, &err);
  if (!timeout) {
    fmt::print(stderr, "tether dump: --timeout '{}': {}\n", timeout_text, err);
    return kExitUsage;
  }
  if (pid <= 0) {
    fmt::print(stderr, "tether dump: '{}' is not a process id\n", pid);
    return kExitUsage;
  }
  if (::kill(static_cast<pid_t>(pid), 0) != 0) {
    fmt::print(stderr, "tether dump: process {}: {}\n", pid,
               errno == ESRCH ? "no such process" : std::strerror(errno));
    return kExitUsage;
  }
  const int sig = dump_signal_of(pid);
  if (sig == 0) {
    fmt::print(stderr, "tether dump: process {} has dumps turned off (TETHER_DUMP_SIGNAL=none)\n",
               pid);
    return kExitUsage;
  }
  const char* sig_name = sig == SIGUSR2 ? "SIGUSR2" : "SIGUSR1";
  if (!catches(pid, sig)) {
    fmt::print(stderr,
               "tether dump: process {} does not handle {}: not a tether program, or its "
               "runtime has not started (nothing was sent)\n",
               pid, sig_name);
    return kExitUsage;
  }
  const std::string path = fmt::format("/tmp/tether-{}.dump", pid);
  const FileStamp before = stamp(path);
  if (::kill(static_cast<pid_t>(pid), sig) != 0) {
    fmt::print(stderr, "tether dump: cannot send {} to process {}: {}\n", sig_name, pid,
               std::strerror(errno));
    return kExitUsage;
  }
  const auto deadline = std::chrono::steady_clock::now() + *timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const FileStamp now = stamp(path);
    if (now.exists && !(now == before)) {
      std::ifstream in(path, std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      fmt::print("{}", text);
      return kExitClean;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  fmt::print(stderr, "tether dump: process {} did not write {} within {} after {}\n", pid, path,
             timeout_text, sig_name);
  return kExitUsage;
}

}  // namespace

void add_dump_command(CLI::App& app, CommandResult& result) {
  CLI::App* cmd =
      app.add_subcommand("dump", "Print every fiber's state and stack of a running tether program");
  auto pid = std::make_shared<long>(0);
  auto timeout = std::make_shared<std::string>("5s");
  cmd->add_option("pid", *pid, "Process id of a program running tether::run")->required();
  cmd->add_option("--timeout", *timeout, "How long to wait for the dump (default 5s)");
  cmd->footer(
      "Sends the program its dump signal (TETHER_DUMP_SIGNAL, SIGUSR1 by default) and\n"
      "prints the dump it writes to /tmp/tether-PID.dump (format: docs/dump-format.md).\n"
      "Identical fibers print once as a group, \"fibers 12, 13 ... (N fibers) [...]:\";\n"
      "start the program with TETHER_DUMP_GROUP=0 to list each on its own.\n"
      "Exit status: 0 printed; 2 no such process, not a tether program, dumps\n"
      "turned off, or no answer in time.");
  cmd->callback([&result, pid, timeout] { result.exit_code = run_dump(*pid, *timeout); });
}

}  // namespace tether::cli
