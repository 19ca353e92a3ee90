// The subcommands of `tether`. Each lives in its own file and registers
// itself on the app; main.cpp calls every add_*_command that is built.
//
// Exit codes (all subcommands): 0 clean, 1 findings (a deadlock, lint
// warnings), 2 usage or input error. `tether run` passes the program's own
// status through when nothing is found.
#pragma once

#include <CLI/CLI.hpp>

namespace tether::cli {

// Set by a subcommand's callback: the process exit status.
struct CommandResult {
  int exit_code = 0;
};

void add_version_command(CLI::App& app, CommandResult& result);
void add_run_command(CLI::App& app, CommandResult& result);
void add_dump_command(CLI::App& app, CommandResult& result);
#ifdef TETHER_HAVE_LINT
void add_lint_command(CLI::App& app, CommandResult& result);
#endif
#ifdef TETHER_HAVE_VIZ
void add_viz_command(CLI::App& app, CommandResult& result);
#endif
#ifdef TETHER_HAVE_TRACE
void add_analyze_command(CLI::App& app, CommandResult& result);
#endif

}  // namespace tether::cli
