// The `tether` command: one CLI11 app, one subcommand per file (commands.h).
#include <fmt/format.h>

#include <exception>
#include <string>

#include "commands.h"
#include "exit_codes.h"
#include "tether_cli_version.h"

int main(int argc, char** argv) {
  using namespace tether::cli;
  CLI::App app{
      "tether: find and explain deadlocks in Go-style C++ programs whose fibers may share an "
      "OS thread.",
      "tether"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tether ") + kVersion);
  app.footer(
      "Run 'tether COMMAND --help' for a command's options.\n"
      "\n"
      "Exit status: 0 clean; 1 findings (lint warnings, deadlocks in a trace); 2 usage or\n"
      "input error. 'tether run': 66 when the runtime found a deadlock, else the program's\n"
      "own status (see 'tether run --help').");

  CommandResult result;
  add_version_command(app, result);
  add_run_command(app, result);
  add_dump_command(app, result);
#ifdef TETHER_HAVE_LINT
  add_lint_command(app, result);
#endif
#ifdef TETHER_HAVE_VIZ
  add_viz_command(app, result);
#endif
#ifdef TETHER_HAVE_TRACE
  add_analyze_command(app, result);
#endif

  // CLI11 would only say "A subcommand is required" for `tether frobnicate`.
  if (argc > 1 && argv[1][0] != '-') {
    std::string known;
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      found |= sub->check_name(argv[1]);
      known += (known.empty() ? "" : ", ") + sub->get_name();
    }
    if (!found) {
      fmt::print(stderr, "tether: unknown command '{}' (commands: {}; see tether --help)\n",
                 argv[1], known);
      return kExitUsage;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with status 0; everything else CLI11
    // rejects is a usage error, whatever CLI11's own code for it (100+).
    return app.exit(e) == 0 ? kExitClean : kExitUsage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "tether: error: {}\n", e.what());
    return kExitUsage;
  }
  return result.exit_code;
}
