// `tether run [options] -- PROG ARGS...`: runs a program under tether's
// supervision. The tether runtime inside PROG reads its settings from the
// environment set here; the supervision itself (signals, timeout, exit
// status) is cli/supervisor.h.
#include <fmt/format.h>

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "duration.h"
#include "exit_codes.h"
#include "supervisor.h"
#ifdef TETHER_HAVE_PRELOAD
#include "preload_env.h"
#endif
#ifdef TETHER_HAVE_VIZ
#include "tether/viz/draw.h"
#endif

namespace tether::cli {
namespace {

struct RunOptions {
  std::string timeout;
  std::string kill_after = "5s";
  std::string trace;
  std::string svg;
  std::string report;
  int procs = 0;
  bool no_preload = false;
  std::vector<std::string> command;
};

// Validates a DURATION argument with duration.h's syntax.
CLI::Validator duration_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::string error;
        if (!parse_duration(text, &error)) return error;
        return {};
      },
      "");
}

// Renders the runtime's snapshot to `svg` (prints where, or why not).
void write_svg(const std::string& snapshot, const std::string& svg) {
  if (!std::filesystem::exists(snapshot)) {
    fmt::print(stderr, "tether run: no wait-for graph was recorded; {} not written\n", svg);
    return;
  }
#ifdef TETHER_HAVE_VIZ
  try {
    viz::draw_file(snapshot, svg, viz::Format::svg, viz::DotOptions{});
    fmt::print(stderr, "tether run: wait-for graph written to {}\n", svg);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tether run: cannot draw the wait-for graph: {}\n", e.what());
  }
#else
  fmt::print(stderr, "tether run: built without Graphviz; {} not written\n", svg);
#endif
}

// A private directory for what the runtime reports back (removed at exit).
class ReportDir {
 public:
  ReportDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tether-run.XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~ReportDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  bool ok() const { return !path_.empty(); }
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// LD_PRELOAD with libtether_preload.so for `program` (docs/preload.md), or
// nothing (with a one-line warning) when the library cannot be found.
std::optional<std::string> preload_env(const std::string& program) {
#ifdef TETHER_HAVE_PRELOAD
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string lib =
      ec ? std::string() : preload::find_library(self.parent_path().string(), TETHER_INSTALL_LIBDIR);
  if (!lib.empty()) {
    const char* current = getenv("LD_PRELOAD");
    return "LD_PRELOAD=" + preload::ld_preload_value(lib, program, current ? current : "");
  }
#else
  (void)program;
#endif
  fmt::print(stderr,
             "tether run: warning: {} not found next to tether; blocking calls outside "
             "tether::sys are not recorded\n",
             "libtether_preload.so");
  return std::nullopt;
}

int run(const RunOptions& opts) {
  std::string error;
  const std::optional<std::string> path = resolve_program(opts.command.front(), &error);
  if (!path) {
    fmt::print(stderr, "tether run: cannot run {}\n", error);
    return kExitUsage;
  }

  SuperviseOptions sup;
  sup.path = *path;
  sup.argv = opts.command;
  sup.env.push_back("TETHER_UNDER_RUN=1");
  if (!opts.trace.empty()) sup.env.push_back("TETHER_TRACE=" + opts.trace);
  if (!opts.report.empty()) sup.env.push_back("TETHER_REPORT=" + opts.report);
  // The runtime appends every deadlock report to TETHER_REPORT_FILE and
  // writes the wait-for graph of the first one to TETHER_SNAPSHOT.
  ReportDir dir;
  if (dir.ok()) {
    sup.env.push_back("TETHER_REPORT_FILE=" + dir.file("report.txt"));
    sup.env.push_back("TETHER_SNAPSHOT=" + dir.file("snapshot.json"));
  }
  if (opts.procs > 0) sup.env.push_back(fmt::format("TETHER_PROCS={}", opts.procs));
  if (!opts.no_preload) {
    if (auto env = preload_env(*path)) sup.env.push_back(*env);
  }
  if (!opts.timeout.empty()) sup.timeout = parse_duration(opts.timeout);  // validated already
  sup.kill_after = *parse_duration(opts.kill_after);

  const SuperviseResult r = supervise(sup);
  const std::string& prog = opts.command.front();
  if (r.outcome == SuperviseResult::Outcome::exec_failed) {
    fmt::print(stderr, "tether run: cannot run {}\n", r.error);
    return kExitUsage;
  }
  if (r.timed_out) {
    fmt::print(stderr,
               "tether run: {} (pid {}) timed out after {}; sent SIGQUIT for a stack dump{}\n",
               prog, r.pid, opts.timeout,
               r.sent_kill ? fmt::format(", then SIGKILL after {}", opts.kill_after) : "");
  }
  if (r.outcome == SuperviseResult::Outcome::signaled) {
    fmt::print(stderr, "tether run: {} (pid {}) killed by signal {} ({}){}\n", prog, r.pid,
               r.signal, signal_name(r.signal), r.core_dumped ? ", core dumped" : "");
  }
  const bool deadlock = dir.ok() && !read_file(dir.file("report.txt")).empty();
  if (deadlock) {
    fmt::print(stderr, "tether run: deadlock found in {} (pid {})\n", prog, r.pid);
    if (!opts.svg.empty()) write_svg(dir.file("snapshot.json"), opts.svg);
    return kExitDeadlock;
  }
  if (r.timed_out) return kExitTimedOut;
  if (r.outcome == SuperviseResult::Outcome::signaled) return kExitSignalBase + r.signal;
  return r.exit_status;
}

}  // namespace

void add_run_command(CLI::App& app, CommandResult& result) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run a program under tether: set the runtime's environment, forward signals, "
      "enforce a timeout, pass its exit status through");
  cmd->add_option("--timeout", opts->timeout,
                  "Stop PROG after DURATION (e.g. 30s, 500ms, 1m30s; a bare number is seconds; "
                  "0: no timeout): send SIGQUIT, on which the tether runtime prints every "
                  "fiber's stack and exits, then SIGKILL after --kill-after. Exit status 124")
      ->check(duration_validator())
      ->type_name("DURATION");
  cmd->add_option("--kill-after", opts->kill_after,
                  "After a --timeout's SIGQUIT, wait this long for PROG to exit before SIGKILL")
      ->check(duration_validator())
      ->type_name("DURATION")
      ->capture_default_str();
  cmd->add_option("--trace", opts->trace,
                  "Write the runtime's event trace to FILE (sets TETHER_TRACE)")
      ->type_name("FILE");
  cmd->add_option("--svg", opts->svg,
                  "Render the wait-for graph to FILE (SVG) when a deadlock is found")
      ->type_name("FILE");
  cmd->add_option("--report", opts->report,
                  "Write the findings as JSON to FILE (sets TETHER_REPORT; docs/report-format.md)")
      ->type_name("FILE");
  cmd->add_option("--procs", opts->procs, "Worker pool threads (sets TETHER_PROCS; default: CPUs)")
      ->check(CLI::Range(1, 4096))
      ->type_name("N");
  cmd->add_flag("--no-preload", opts->no_preload,
                "Do not preload libtether_preload.so (by default PROG's blocking libc calls "
                "made by fibers are recorded as system-call waits; docs/preload.md)");
  cmd->add_option("PROG", opts->command,
                  "The program (looked up in PATH unless it contains a '/') and its arguments. "
                  "Everything from PROG on is passed to it unchanged; write '--' before PROG "
                  "when its name starts with '-'")
      ->required()
      ->type_name("[ARGS...]");
  // Everything from PROG on belongs to PROG, even "--flags" that look like ours.
  cmd->positionals_at_end();
  cmd->footer(
      "Environment set for PROG: TETHER_UNDER_RUN=1 (the runtime knows it is supervised),\n"
      "TETHER_REPORT_FILE and TETHER_SNAPSHOT (where the runtime reports deadlocks back),\n"
      "TETHER_TRACE, TETHER_REPORT, TETHER_PROCS (from the options above), and LD_PRELOAD\n"
      "with libtether_preload.so first (after PROG's sanitizer runtime, if any) unless\n"
      "--no-preload. The rest of the environment is inherited.\n"
      "\n"
      "Signals: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to tether are\n"
      "forwarded to PROG (those a terminal sends to the whole process group reach PROG\n"
      "directly and are not sent twice). SIGQUIT makes the runtime print every fiber's\n"
      "stack and exit; SIGUSR1 prints the stacks and goes on.\n"
      "\n"
      "Exit status: 66 if the runtime found a deadlock (whatever PROG's status); else\n"
      "PROG's own status; 128+N if PROG died of signal N; 124 if --timeout expired; 2 for\n"
      "a usage error or a PROG that cannot be run.");
  cmd->callback([opts, &result] { result.exit_code = run(*opts); });
}

}  // namespace tether::cli
